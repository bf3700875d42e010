// SPDX-License-Identifier: GPL-2.0
/*
 * TCP sockets for the C++ engine (glue_net.h): kernel sockets in init_net,
 * blocking calls whose timeouts are the socket's own sk_rcvtimeo (receive,
 * accept) and sk_sndtimeo (send, connect), set under the socket lock before
 * each call. A timeout comes back as -EAGAIN from recvmsg, sendmsg and
 * accept and as -EINPROGRESS from a blocking connect; both become
 * MARS_NET_TIMED_OUT.
 *
 * Shutdown sets the handle's flag, then kernel_sock_shutdown(SHUT_RDWR):
 * inet_shutdown() marks a connected socket shut down both ways (a blocked
 * recvmsg returns 0, sendmsg -EPIPE) and disconnects a listening one
 * (state TCP_CLOSE: a blocked accept returns -EINVAL), and wakes every
 * sleeper through sk_state_change. Whatever a woken or later call returns,
 * the flag turns it into MARS_NET_SHUT_DOWN. The shut-down state persists,
 * so a call that passed its flag check just before cannot sleep past it.
 *
 * Sockets keep sk_allocation = GFP_KERNEL: only the engine's network
 * threads use them, never the block I/O path.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/build_bug.h>
#include <linux/errno.h>
#include <linux/in.h>
#include <linux/in6.h>
#include <linux/jiffies.h>
#include <linux/kernel.h>
#include <linux/limits.h>
#include <linux/minmax.h>
#include <linux/net.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/socket.h>
#include <linux/string.h>
#include <linux/tcp.h>
#include <linux/time64.h>
#include <linux/uio.h>
#include <net/net_namespace.h>
#include <net/sock.h>

#include "glue_net.h"

static_assert(MARS_NET_TIMED_OUT == -EAGAIN, "timeout code");
static_assert(MARS_NET_SHUT_DOWN == -ESHUTDOWN, "shutdown code");

/* TCP keepalive of every connected socket (core/platform_net.h). */
#define MARS_NET_KEEPIDLE_S 10
#define MARS_NET_KEEPINTVL_S 5
#define MARS_NET_KEEPCNT 3

/* One sendmsg/recvmsg moves at most this much (they return int). */
#define MARS_NET_MAX_CHUNK (1U << 30)
/* The largest SO_RCVLOWAT set (platform_net.h). */
#define MARS_NET_MAX_LOW_WATER (1 << 20)
/* One sendmsg takes at most this many pieces (an array on the stack). */
#define MARS_NET_MAX_PIECES 16

/* Timeouts of 2^32 ms or more never end. */
#define MARS_NET_FOREVER_NS ((1ULL << 32) * NSEC_PER_MSEC)

struct mars_net_socket {
	struct socket *sock;
	/* 1 once mars_glue_net_shutdown() began (release / acquire). */
	int shut;
	/* SO_RCVLOWAT as last set (1: the default). */
	int low_water;
};

static long mars_net_timeo(unsigned long long timeout_ns)
{
	if (timeout_ns == 0)
		return 0;
	if (timeout_ns >= MARS_NET_FOREVER_NS)
		return MAX_SCHEDULE_TIMEOUT;
	/* Rounded up: msecs_to_jiffies() rounds up as well. */
	return msecs_to_jiffies(DIV_ROUND_UP_ULL(timeout_ns, NSEC_PER_MSEC));
}

/* sk_rcvtimeo has no setter; both fields are read under the lock. */
static void mars_net_set_timeo(struct sock *sk, long *field, long timeo)
{
	lock_sock(sk);
	WRITE_ONCE(*field, timeo);
	release_sock(sk);
}

static bool mars_net_is_shut(const struct mars_net_socket *s)
{
	return smp_load_acquire(&s->shut);
}

/*
 * Kernel threads take no signals, but a caller that does may see the
 * kernel-internal restart codes: they reach no syscall exit here, so they
 * are reported as -EINTR.
 */
static int mars_net_restart_errno(int err)
{
	switch (err) {
	case -ERESTARTSYS:
	case -ERESTARTNOINTR:
	case -ERESTARTNOHAND:
	case -ERESTART_RESTARTBLOCK:
		return -EINTR;
	default:
		return err;
	}
}

/* The result of a failed call on `s`: after a shutdown, always that. */
static int mars_net_error(const struct mars_net_socket *s, int err)
{
	if (mars_net_is_shut(s))
		return MARS_NET_SHUT_DOWN;
	return mars_net_restart_errno(err);
}

/* Returns the sockaddr length, or -EINVAL for an unspecified family. */
static int mars_net_to_sockaddr(const struct mars_net_address *address,
				struct sockaddr_storage *ss)
{
	struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	switch (address->family) {
	case MARS_NET_IPV4:
		in4->sin_family = AF_INET;
		in4->sin_port = htons(address->port);
		memcpy(&in4->sin_addr, address->bytes, 4);
		return sizeof(*in4);
	case MARS_NET_IPV6:
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(address->port);
		memcpy(&in6->sin6_addr, address->bytes, 16);
		return sizeof(*in6);
	default:
		return -EINVAL;
	}
}

static void mars_net_from_sockaddr(const struct sockaddr_storage *ss,
				   struct mars_net_address *out)
{
	const struct sockaddr_in *in4 = (const struct sockaddr_in *)ss;
	const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;

	memset(out, 0, sizeof(*out));
	if (ss->ss_family == AF_INET) {
		out->family = MARS_NET_IPV4;
		out->port = ntohs(in4->sin_port);
		memcpy(out->bytes, &in4->sin_addr, 4);
	} else if (ss->ss_family == AF_INET6) {
		out->family = MARS_NET_IPV6;
		out->port = ntohs(in6->sin6_port);
		memcpy(out->bytes, &in6->sin6_addr, 16);
	}
}

/* TCP_NODELAY and keepalive on a connected (or connecting) socket. */
static int mars_net_setup_connected(struct socket *sock)
{
	struct sock *sk = sock->sk;
	int ret;

	tcp_sock_set_nodelay(sk);
	sock_set_keepalive(sk);
	ret = tcp_sock_set_keepidle(sk, MARS_NET_KEEPIDLE_S);
	if (!ret)
		ret = tcp_sock_set_keepintvl(sk, MARS_NET_KEEPINTVL_S);
	if (!ret)
		ret = tcp_sock_set_keepcnt(sk, MARS_NET_KEEPCNT);
	return ret;
}

/* Hands `sock` to a new handle; releases it when that fails. */
static int mars_net_wrap(struct socket *sock, void **handle)
{
	struct mars_net_socket *s = kzalloc(sizeof(*s), GFP_KERNEL);

	if (!s) {
		sock_release(sock);
		return -ENOMEM;
	}
	s->sock = sock;
	s->low_water = 1;
	*handle = s;
	return 0;
}

int mars_glue_net_listen(const struct mars_net_address *address, int backlog,
			 void **handle)
{
	struct sockaddr_storage ss;
	struct socket *sock;
	int len, ret;

	*handle = NULL;
	len = mars_net_to_sockaddr(address, &ss);
	if (len < 0)
		return len;
	ret = sock_create_kern(&init_net, ss.ss_family, SOCK_STREAM,
			       IPPROTO_TCP, &sock);
	if (ret)
		return ret;
	sock_set_reuseaddr(sock->sk);
	ret = kernel_bind(sock, (struct sockaddr *)&ss, len);
	if (!ret)
		ret = kernel_listen(sock, backlog);
	if (ret) {
		sock_release(sock);
		return ret;
	}
	return mars_net_wrap(sock, handle);
}

int mars_glue_net_accept(void *listener, unsigned long long timeout_ns,
			 void **handle, struct mars_net_address *peer)
{
	struct mars_net_socket *l = listener;
	struct sock *sk = l->sock->sk;
	struct sockaddr_storage ss;
	struct socket *sock;
	int ret;

	*handle = NULL;
	if (mars_net_is_shut(l))
		return MARS_NET_SHUT_DOWN;
	/* inet_csk_accept() waits sk_rcvtimeo of the listener. */
	mars_net_set_timeo(sk, &sk->sk_rcvtimeo, mars_net_timeo(timeout_ns));
	ret = kernel_accept(l->sock, &sock, 0);
	if (ret)
		return mars_net_error(l, ret);
	ret = mars_net_setup_connected(sock);
	if (!ret && peer) {
		ret = kernel_getpeername(sock, (struct sockaddr *)&ss);
		if (ret >= 0) {
			mars_net_from_sockaddr(&ss, peer);
			ret = 0;
		}
	}
	if (ret) {
		sock_release(sock);
		return ret;
	}
	return mars_net_wrap(sock, handle);
}

int mars_glue_net_connect(const struct mars_net_address *address,
			  unsigned long long timeout_ns, void **handle)
{
	struct sockaddr_storage ss;
	struct socket *sock;
	int len, ret;

	*handle = NULL;
	len = mars_net_to_sockaddr(address, &ss);
	if (len < 0)
		return len;
	ret = sock_create_kern(&init_net, ss.ss_family, SOCK_STREAM,
			       IPPROTO_TCP, &sock);
	if (ret)
		return ret;
	ret = mars_net_setup_connected(sock);
	if (!ret) {
		/*
		 * A blocking connect waits sk_sndtimeo for the handshake and
		 * returns -EINPROGRESS when it ran out (both kernels:
		 * __inet_stream_connect).
		 */
		mars_net_set_timeo(sock->sk, &sock->sk->sk_sndtimeo,
				   mars_net_timeo(timeout_ns));
		ret = kernel_connect(sock, (struct sockaddr *)&ss, len, 0);
		if (ret == -EINPROGRESS || ret == -EALREADY)
			ret = MARS_NET_TIMED_OUT;
		ret = mars_net_restart_errno(ret);
	}
	if (ret) {
		sock_release(sock);
		return ret;
	}
	return mars_net_wrap(sock, handle);
}

int mars_glue_net_local_address(void *handle, struct mars_net_address *out)
{
	struct mars_net_socket *s = handle;
	struct sockaddr_storage ss;
	int ret;

	ret = kernel_getsockname(s->sock, (struct sockaddr *)&ss);
	if (ret < 0)
		return ret;
	mars_net_from_sockaddr(&ss, out);
	return 0;
}

/* The first byte not sent yet: pieces[index] at offset. */
struct mars_net_cursor {
	size_t index;
	size_t offset;
};

static void mars_net_skip_sent(const struct mars_net_piece *pieces,
			       size_t count, struct mars_net_cursor *at,
			       size_t sent)
{
	while (at->index < count) {
		size_t room = pieces[at->index].size - at->offset;

		if (sent < room) {
			at->offset += sent;
			return;
		}
		sent -= room;
		at->index++;
		at->offset = 0;
	}
}

/* Fills vec from `at`; returns the number of entries, *total their bytes. */
static size_t mars_net_fill_vec(const struct mars_net_piece *pieces,
				size_t count, const struct mars_net_cursor *at,
				struct kvec *vec, size_t *total)
{
	size_t nr = 0;
	size_t i;

	*total = 0;
	for (i = at->index; i < count && nr < MARS_NET_MAX_PIECES &&
	     *total < MARS_NET_MAX_CHUNK; i++) {
		size_t skip = i == at->index ? at->offset : 0;
		size_t len = min_t(size_t, pieces[i].size - skip,
				   MARS_NET_MAX_CHUNK - *total);

		if (!len)
			continue;
		vec[nr].iov_base = (void *)((const char *)pieces[i].data + skip);
		vec[nr].iov_len = len;
		nr++;
		*total += len;
	}
	return nr;
}

int mars_glue_net_send(void *handle, const struct mars_net_piece *pieces,
		       size_t count, unsigned long long timeout_ns)
{
	struct mars_net_socket *s = handle;
	struct sock *sk = s->sock->sk;
	struct mars_net_cursor at = { };

	if (mars_net_is_shut(s))
		return MARS_NET_SHUT_DOWN;
	/*
	 * Every sendmsg starts a fresh wait of sk_sndtimeo and returns what
	 * it queued when that runs out, so -EAGAIN means no byte went out for
	 * a whole timeout.
	 */
	mars_net_set_timeo(sk, &sk->sk_sndtimeo, mars_net_timeo(timeout_ns));
	for (;;) {
		struct msghdr msg = { .msg_flags = MSG_NOSIGNAL };
		struct kvec vec[MARS_NET_MAX_PIECES];
		size_t total;
		size_t nr;
		int n;

		mars_net_skip_sent(pieces, count, &at, 0);
		if (at.index == count)
			return 0;
		nr = mars_net_fill_vec(pieces, count, &at, vec, &total);
		n = kernel_sendmsg(s->sock, &msg, vec, nr, total);
		if (n < 0)
			return mars_net_error(s, n);
		if (n == 0)
			return mars_net_error(s, -EIO); /* no progress, no reason */
		mars_net_skip_sent(pieces, count, &at, n);
	}
}

int mars_glue_net_receive(void *handle, void *buffer, size_t size,
			  unsigned long long timeout_ns, size_t *done)
{
	struct mars_net_socket *s = handle;
	struct sock *sk = s->sock->sk;
	struct msghdr msg = { };
	struct kvec vec = {
		.iov_base = buffer,
		.iov_len = min_t(size_t, size, MARS_NET_MAX_CHUNK),
	};
	int n;

	*done = 0;
	if (mars_net_is_shut(s))
		return MARS_NET_SHUT_DOWN;
	if (!size)
		return -EINVAL;
	mars_net_set_timeo(sk, &sk->sk_rcvtimeo, mars_net_timeo(timeout_ns));
	n = kernel_recvmsg(s->sock, &msg, &vec, 1, vec.iov_len, 0);
	if (n < 0)
		return mars_net_error(s, n);
	/* End of stream: the peer's FIN, or our own shutdown. */
	if (n == 0)
		return mars_net_is_shut(s) ? MARS_NET_SHUT_DOWN : 0;
	*done = n;
	return 0;
}

void mars_glue_net_set_low_water(void *handle, int bytes)
{
	struct mars_net_socket *s = handle;

	if (bytes < 1)
		bytes = 1;
	if (bytes > MARS_NET_MAX_LOW_WATER)
		bytes = MARS_NET_MAX_LOW_WATER;
	if (bytes == s->low_water)
		return;
	if (!sock_setsockopt(s->sock, SOL_SOCKET, SO_RCVLOWAT,
			     KERNEL_SOCKPTR(&bytes), sizeof(bytes)))
		s->low_water = bytes;
}

void mars_glue_net_shutdown(void *handle)
{
	struct mars_net_socket *s = handle;

	/* The flag first: a call woken by the shutdown must see it. */
	smp_store_release(&s->shut, 1);
	/* -ENOTCONN for a socket that is not connected: nothing to undo. */
	kernel_sock_shutdown(s->sock, SHUT_RDWR);
}

void mars_glue_net_close(void *handle)
{
	struct mars_net_socket *s = handle;

	if (!s)
		return;
	sock_release(s->sock);
	kfree(s);
}
