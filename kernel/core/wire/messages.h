// Every message of the mars peer protocol (docu/wire-protocol.md), for code
// that handles them all. Each message struct has kType, Encode(Bytes*) and a
// strict Decode(Slice); decoded slices point into the decoded payload (for a
// FrameDecoder frame: valid until the decoder's next Feed()).
#ifndef MARS_CORE_WIRE_MESSAGES_H_
#define MARS_CORE_WIRE_MESSAGES_H_

#include "core/wire/control_messages.h"
#include "core/wire/hello.h"
#include "core/wire/logfile_messages.h"
#include "core/wire/sync_messages.h"
#include "core/wire/tree_messages.h"

#endif  // MARS_CORE_WIRE_MESSAGES_H_
