// Replays a fuzz target's corpus without libFuzzer, so the normal build (g++)
// runs every seed and every past finding as a regression test.
//
//   fuzz-corpus-<target> PATH...
//
// Each PATH is a file or a directory (its regular files, in name order). Every
// file is passed once to LLVMFuzzerTestOneInput; a target that finds a
// property broken aborts. No file at all is an error, so a corpus that went
// missing fails the test instead of passing it.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace fs = std::filesystem;

int main(int argc, char** argv) {
  std::vector<fs::path> files;
  for (int i = 1; i < argc; ++i) {
    fs::path p = argv[i];
    if (fs::is_directory(p)) {
      std::vector<fs::path> in_dir;
      for (auto& e : fs::directory_iterator(p))
        if (e.is_regular_file())
          in_dir.push_back(e.path());
      std::sort(in_dir.begin(), in_dir.end());
      files.insert(files.end(), in_dir.begin(), in_dir.end());
    } else if (fs::is_regular_file(p)) {
      files.push_back(p);
    } else {
      std::fprintf(stderr, "%s: no such file or directory\n", p.c_str());
      return 2;
    }
  }
  if (files.empty()) {
    std::fprintf(stderr, "usage: %s FILE_OR_DIR... (found no corpus file)\n", argv[0]);
    return 2;
  }
  for (auto& f : files) {
    std::ifstream in{f, std::ios::binary};
    std::vector<std::uint8_t> bytes{std::istreambuf_iterator<char>{in},
                                    std::istreambuf_iterator<char>{}};
    if (!in.good() && !in.eof()) {
      std::fprintf(stderr, "%s: cannot read\n", f.c_str());
      return 2;
    }
    // A size-0 input gets a valid pointer, as libFuzzer gives one.
    static const std::uint8_t none = 0;
    LLVMFuzzerTestOneInput(bytes.empty() ? &none : bytes.data(), bytes.size());
  }
  std::printf("%zu corpus files replayed\n", files.size());
  return 0;
}
