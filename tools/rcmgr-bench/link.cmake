# rcmgr-bench: included by the top-level CMakeLists.txt with `exe` naming the
# target. The benchmark measures only the parts that exist: a part whose
# sources have not landed yet is compiled out and its keys are reported as
# missing (the source globs are CONFIGURE_DEPENDS, so a new file re-runs this).
if(EXISTS ${CMAKE_SOURCE_DIR}/actors/rate/rate_limiter_actor.cpp)
  target_compile_definitions(${exe} PRIVATE RCMGR_BENCH_HAVE_RATE_LIMITER=1)
endif()
# The accept phase (accept_ratio_vs_bare_asio) runs a real rcmgr::net::node
# against a bare Asio acceptor: it needs the transport.
if(TARGET rcmgr_net)
  target_link_libraries(${exe} PRIVATE rcmgr_net)
  target_compile_definitions(${exe} PRIVATE RCMGR_BENCH_HAVE_NET=1)
endif()
