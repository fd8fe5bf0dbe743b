// Every file of the committed bad corpus is refused with a clear message: at load (structure),
// or at init (an op whose shapes or options contradict each other). None may crash or run.
#include <dirent.h>

#include <fstream>
#include <iterator>

#include <gtest/gtest.h>

#include "tests/fuzz/bad_models.h"
#include "tests/fuzz/load_and_run.h"

namespace outpost::fuzz {
namespace {

std::vector<std::string> CorpusFiles() {
  std::vector<std::string> files;
  const std::string dir = OUTPOST_BAD_CORPUS_DIR;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d)) {
      const std::string n = e->d_name;
      if (n.size() > 4 && n.substr(n.size() - 4) == ".opm") files.push_back(dir + "/" + n);
    }
    closedir(d);
  }
  return files;
}

TEST(BadModels, ValidBaseModelRuns) {
  const auto v = MakeValidModel();
  const LoadResult r = LoadAndRun(v.data(), v.size());
  EXPECT_EQ(r.load, Status::kOk) << r.message;
  EXPECT_EQ(r.init, Status::kOk) << r.message;
  EXPECT_EQ(r.invoke, Status::kOk) << r.message;
}

TEST(BadModels, EveryCommittedBadFileIsRefusedWithAMessage) {
  const auto files = CorpusFiles();
  ASSERT_GE(files.size(), 30u) << "corpus missing from " << OUTPOST_BAD_CORPUS_DIR;
  for (const std::string& path : files) {
    std::ifstream in(path, std::ios::binary);
    const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                                     std::istreambuf_iterator<char>());
    const LoadResult r = LoadAndRun(bytes.data(), bytes.size());
    const bool refused = r.load != Status::kOk || r.init != Status::kOk;
    EXPECT_TRUE(refused) << path << " was accepted";
    EXPECT_FALSE(r.message.empty()) << path << " refused without a message";
  }
}

// The committed corpus is what the generator makes today (regenerate with make_bad_corpus).
TEST(BadModels, GeneratorCoversTheCommittedCorpus) {
  const auto bad = MakeBadModels();
  EXPECT_EQ(bad.size(), CorpusFiles().size());
  for (const auto& [name, bytes] : bad) {
    const LoadResult r = LoadAndRun(bytes.data(), bytes.size());
    EXPECT_TRUE(r.load != Status::kOk || r.init != Status::kOk) << name << " was accepted";
  }
}

}  // namespace
}  // namespace outpost::fuzz
