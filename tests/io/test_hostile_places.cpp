// Files written and read where something hostile waits: planted links, folders in a target's
// place, FIFOs and devices as inputs, a full disk, writers racing into one folder.
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>
#include <vector>

#include "io_test_util.hpp"

namespace kattn {
namespace {

using testing::TempDirTest;

class HostilePlaces : public TempDirTest {};

TEST_F(HostilePlaces, APlantedLinkIsReplacedNotFollowed) {
  const auto victim = dir_ / "victim.txt";
  write_file_atomically(victim, "precious");
  // The temporary name kattn once used, and the target itself, as links to the victim.
  std::filesystem::create_symlink(victim, dir_ / "out.npy.tmp-kattn");
  std::filesystem::create_symlink(victim, dir_ / "linked.npy");
  write_file_atomically(dir_ / "out.npy", "new");
  write_file_atomically(dir_ / "linked.npy", "new too");
  EXPECT_EQ(read_file_bytes(victim), "precious");
  EXPECT_EQ(read_file_bytes(dir_ / "out.npy"), "new");
  EXPECT_FALSE(std::filesystem::is_symlink(dir_ / "linked.npy"));
  EXPECT_EQ(read_file_bytes(dir_ / "linked.npy"), "new too");
  EXPECT_EQ(files(),
            (std::vector<std::string>{"linked.npy", "out.npy", "out.npy.tmp-kattn", "victim.txt"}));
}

TEST_F(HostilePlaces, AFileSetIsWrittenWholeOrNotAtAll) {
  write_file_atomically(dir_ / "a.npy", "old a");
  std::filesystem::create_directory(dir_ / "b.npy");  // b cannot be replaced
  const std::vector<FileToWrite> set = {{dir_ / "a.npy", "new a"}, {dir_ / "b.npy", "new b"}};
  EXPECT_EQ(testing::message_of<FileError>([&] { write_files_atomically(set); }),
            "cannot write '" + (dir_ / "b.npy").string() + "': it is a directory");
  EXPECT_EQ(read_file_bytes(dir_ / "a.npy"), "old a");
  EXPECT_EQ(files(), (std::vector<std::string>{"a.npy", "b.npy"}));  // no temporary left

  const std::string too_long(300, 'x');
  const std::vector<FileToWrite> named = {{dir_ / "a.npy", "new a"}, {dir_ / too_long, "x"}};
  EXPECT_THROW(write_files_atomically(named), FileError);
  EXPECT_EQ(read_file_bytes(dir_ / "a.npy"), "old a");
  EXPECT_EQ(files(), (std::vector<std::string>{"a.npy", "b.npy"}));
}

TEST_F(HostilePlaces, WritersRacingIntoOneFolderEachLeaveAWholeSet) {
  // Each writer writes the same two files with its own number; whoever renames last, both
  // files hold one writer's number.
  for (int round = 0; round < 10; ++round) {
    std::vector<std::thread> writers;
    for (int writer = 0; writer < 8; ++writer) {
      writers.emplace_back([&, writer] {
        const std::string mark = std::to_string(writer);
        const std::vector<FileToWrite> set = {{dir_ / "output_0.npy", mark},
                                              {dir_ / "output_1.npy", mark}};
        write_files_atomically(set);
      });
    }
    for (std::thread& writer : writers) writer.join();
    EXPECT_EQ(read_file_bytes(dir_ / "output_0.npy"), read_file_bytes(dir_ / "output_1.npy"));
    EXPECT_EQ(files(), (std::vector<std::string>{"output_0.npy", "output_1.npy"}));
  }
}

TEST_F(HostilePlaces, AFullDiskIsNamedWithItsReason) {
  // A file size limit stands in for a full disk: the write fails part way, with the system's
  // reason. In a child process, so that the limit stays there.
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    signal(SIGXFSZ, SIG_IGN);
    const rlimit limit{4096, 4096};
    setrlimit(RLIMIT_FSIZE, &limit);
    try {
      write_file_atomically(dir_ / "big.bin", std::string(1 << 20, 'x'));
    } catch (const FileError& e) {
      const bool named = std::string(e.what()) ==
                         "cannot write '" + (dir_ / "big.bin").string() + "': File too large";
      _exit(named && !std::filesystem::exists(dir_ / "big.bin") ? 0 : 1);
    }
    _exit(2);
  }
  int status = 0;
  waitpid(child, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_TRUE(files().empty());
}

TEST_F(HostilePlaces, DevicesAndFifosAreNotRead) {
  EXPECT_EQ(testing::message_of<FileError>([] { read_file_bytes("/dev/zero"); }),
            "cannot read '/dev/zero': it is a device");
  const auto fifo = dir_ / "fifo";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  // Refused at once: nothing waits for a writer.
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(testing::message_of<FileError>([&] { read_file_bytes(fifo); }),
            "cannot read '" + fifo.string() + "': it is a FIFO");
  EXPECT_EQ(testing::message_of<FileError>([&] { read_file_bytes(dir_); }),
            "cannot read '" + dir_.string() + "': it is a directory");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_EQ(testing::message_of<FileError>([] { read_file_bytes("/dev/zero", 10); }),
            "cannot read '/dev/zero': it is a device");
  write_file_atomically(dir_ / "eleven", "eleven byte");
  EXPECT_EQ(testing::message_of<FileError>([&] { read_file_bytes(dir_ / "eleven", 10); }),
            "cannot read '" + (dir_ / "eleven").string() +
                "': it holds 11 bytes, more than the limit of 10");
}

}  // namespace
}  // namespace kattn
