# rcmgr-inspect: CAF's openssl module, to reach TLS endpoints.
target_link_libraries(${exe} PRIVATE caf_openssl)
