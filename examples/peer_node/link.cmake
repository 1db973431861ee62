# peer-node: the transport, cpp-httplib (Debian's compiled library) for the
# admin endpoint, with the defines its library was built with, and CAF's
# openssl module for TLS on the inspect and control endpoints.
find_package(PkgConfig REQUIRED)
pkg_check_modules(CPP_HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)
target_link_libraries(${exe} PRIVATE rcmgr_net PkgConfig::CPP_HTTPLIB caf_openssl)
