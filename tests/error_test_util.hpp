// What the test suites share for checking errors: the message an exception carries.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "kattn/core/error.hpp"

namespace kattn::testing {

// The message of the exception `body` throws, or "no exception".
template <typename Exception, typename Body>
std::string message_of(Body&& body) {
  try {
    body();
  } catch (const Exception& e) {
    return e.what();
  }
  return "no exception";
}

// Runs `body`, which must throw exactly `Expected` with exactly `message`.
template <typename Expected = ValueError>
void expect_error(const std::function<void()>& body, const std::string& message) {
  try {
    body();
    ADD_FAILURE() << "no exception; expected: " << message;
  } catch (const Expected& e) {
    EXPECT_EQ(std::string(e.what()), message);
  }
}

}  // namespace kattn::testing
