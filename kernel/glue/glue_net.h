/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The network half of the glue boundary: TCP sockets (glue/net.c), used by
 * kernel/platform/platform_net_kernel.cc for core/platform_net.h.
 *
 * Rules as in mars_glue.h: builtin types only, no kernel header, errors as
 * 0 / -errno. A socket handle is an opaque pointer. Every function may
 * sleep; none may be called on the block I/O path (sockets allocate with
 * GFP_KERNEL). Timeouts are in ns: 0 does not wait, a positive one is
 * rounded up to jiffies, one of 2^32 ms or more never ends.
 */
#ifndef _MARS_GLUE_NET_H
#define _MARS_GLUE_NET_H

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Errors with a meaning of their own (the values of -EAGAIN and
 * -ESHUTDOWN; net.c checks them at build time): the call's timeout passed,
 * or mars_glue_net_shutdown() was called on the socket. -EINTR: a signal
 * (only a thread that accepts signals sees it).
 */
#define MARS_NET_TIMED_OUT (-11)
#define MARS_NET_SHUT_DOWN (-108)

/* Values of mars::platform::NetAddress::Family. */
enum mars_net_family {
	MARS_NET_UNSPECIFIED = 0,
	MARS_NET_IPV4 = 4,
	MARS_NET_IPV6 = 6,
};

/*
 * Same layout as mars::platform::NetAddress: bytes in network order (4 used
 * for IPv4), port in host order.
 */
struct mars_net_address {
	unsigned char family;
	unsigned char bytes[16];
	unsigned short port;
};

/* A socket bound to `address` with SO_REUSEADDR, listening. -EINVAL for an
 * unspecified family. */
int mars_glue_net_listen(const struct mars_net_address *address, int backlog,
			 void **socket);
/*
 * Waits for a connection on a listening socket; *socket is the new
 * connected socket, *peer (when not NULL) its peer's address.
 */
int mars_glue_net_accept(void *listener, unsigned long long timeout_ns,
			 void **socket, struct mars_net_address *peer);
/*
 * A socket connected to `address` (MARS_NET_TIMED_OUT after timeout_ns).
 * Not cut short by mars_glue_net_shutdown(): the handle exists only after
 * success.
 */
int mars_glue_net_connect(const struct mars_net_address *address,
			  unsigned long long timeout_ns, void **socket);
int mars_glue_net_local_address(void *socket, struct mars_net_address *out);
/* One piece of a gathered send (struct iovec's shape). */
struct mars_net_piece {
	const void *data;
	__SIZE_TYPE__ size;
};

/*
 * Sends pieces[0, count) in order, up to 16 pieces per sendmsg;
 * MARS_NET_TIMED_OUT when no byte could be sent for timeout_ns (some may
 * have been sent before).
 */
int mars_glue_net_send(void *socket, const struct mars_net_piece *pieces,
		       __SIZE_TYPE__ count, unsigned long long timeout_ns);
/*
 * SO_RCVLOWAT of a connected socket (1..1 MiB), kept to skip unchanged
 * values; best effort (see platform_net.h).
 */
void mars_glue_net_set_low_water(void *socket, int bytes);
/*
 * Receives 1..size bytes (REQUIRES size > 0), waiting up to timeout_ns for
 * the first; 0 with *done == 0: the peer closed the connection.
 */
int mars_glue_net_receive(void *socket, void *buffer, __SIZE_TYPE__ size,
			  unsigned long long timeout_ns, __SIZE_TYPE__ *done);
/*
 * Makes every call blocked on `socket`, and every later one, return
 * MARS_NET_SHUT_DOWN. Idempotent; any thread, while the socket is open.
 */
void mars_glue_net_shutdown(void *socket);
/* Releases the socket. REQUIRES no call on it running. */
void mars_glue_net_close(void *socket);

#ifdef __cplusplus
}
#endif

#endif /* _MARS_GLUE_NET_H */
