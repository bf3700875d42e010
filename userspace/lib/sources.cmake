# The POSIX platform (userspace/lib): the sources that implement
# core/platform.h, core/platform_io.h and core/platform_net.h in userspace,
# plus the test API of platform_user.h. Included by kernel/core (mars_core)
# and testing/crash (the crash checker's engine copies).
set(MARS_PLATFORM_USER_SOURCES
    "${CMAKE_CURRENT_LIST_DIR}/platform_user.cc"
    "${CMAKE_CURRENT_LIST_DIR}/crc32c_x86_user.cc"
    "${CMAKE_CURRENT_LIST_DIR}/platform_io_user.cc"
    "${CMAKE_CURRENT_LIST_DIR}/platform_file_user.cc"
    "${CMAKE_CURRENT_LIST_DIR}/platform_tree_user.cc"
    "${CMAKE_CURRENT_LIST_DIR}/platform_block_user.cc"
    "${CMAKE_CURRENT_LIST_DIR}/platform_front_user.cc"
    "${CMAKE_CURRENT_LIST_DIR}/platform_recorder_user.cc"
    "${CMAKE_CURRENT_LIST_DIR}/platform_net_user.cc")
