# rcmgr-bench: included by the top-level CMakeLists.txt with `exe` naming the
# target. The benchmark measures only the parts that exist: a part whose
# sources have not landed yet is compiled out and its keys are reported as
# missing (the source globs are CONFIGURE_DEPENDS, so a new file re-runs this).
if(EXISTS ${CMAKE_SOURCE_DIR}/actors/rate_limiter_actor.cpp)
  target_compile_definitions(${exe} PRIVATE RCMGR_BENCH_HAVE_RATE_LIMITER=1)
endif()
