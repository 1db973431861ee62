// rcmgr-bench's report: the human table (stdout) and number formatting.
#pragma once

#include <string>

#include "harness.hpp"

namespace rcmgr::bench {

std::string fmt(double v);

void print_table(const results& r, const sizes& z);

} // namespace rcmgr::bench
