// Every test starts a fresh Keras session, as Keras's own TestCase.setUp calls clear_session():
// unnamed layers are "dense", "dense_1", ... counted from the test's start, whether the test runs
// alone (ctest) or after others in one process (the thread-sanitizer runs).
#include <gtest/gtest.h>

#include "kattn/core/session.hpp"

namespace {

class ClearSessionPerTest : public testing::EmptyTestEventListener {
  void OnTestStart(const testing::TestInfo& /*test*/) override { kattn::clear_session(); }
};

// Registered before gtest_main runs the tests.
const bool registered = [] {
  testing::UnitTest::GetInstance()->listeners().Append(new ClearSessionPerTest);
  return true;
}();

}  // namespace
