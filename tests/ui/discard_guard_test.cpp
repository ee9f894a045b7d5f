// The studio asks before an action discards training no checkpoint holds: the guard is asked
// with what is about to happen, a "no" keeps the run, a "yes" goes on, and after a save nothing
// is asked (there is nothing to lose).
#include <gtest/gtest.h>

#include <QString>
#include <atomic>
#include <string>

#include "tests/core/dataset_test_files.h"
#include "tests/ui/xvfb_test_support.h"
#include "ui/session_controller.h"

namespace drmm::ui {
namespace {

using test::step_of;
using test::wait_until;

TEST(DiscardGuard, AsksBeforeDiscardingUnsavedStepsAndNotAfterASave) {
  if (test::rerun_under_xvfb("DiscardGuard.AsksBeforeDiscardingUnsavedStepsAndNotAfterASave")) return;
  test::StudioUnderTest studio;
  auto* session = studio.window().findChild<SessionController*>();
  ASSERT_NE(session, nullptr);
  int asked = 0;
  bool answer = false;
  QString question;
  session->set_discard_guard([&](const QString& what) {
    ++asked;
    question = what;
    return answer;
  });
  session->step_once();
  ASSERT_TRUE(wait_until([&] { return step_of(*session) >= 1; }, 120000)) << "no step was trained";
  EXPECT_GE(session->unsaved_steps(), 1);

  bool ran = false;
  session->after_confirming("Reset starts a new run", [&] { ran = true; session->reset(); });
  ASSERT_TRUE(wait_until([&] { return asked == 1; }, 5000));
  test::pump(200);
  EXPECT_FALSE(ran) << "a declined discard went on";
  EXPECT_EQ(question, "Reset starts a new run");
  EXPECT_GE(step_of(*session), 1);

  answer = true;
  session->after_confirming("Reset starts a new run", [&] { ran = true; session->reset(); });
  ASSERT_TRUE(wait_until([&] { return ran; }, 5000));
  EXPECT_EQ(asked, 2);
  ASSERT_TRUE(wait_until([&] { return step_of(*session) == 0; }, 60000)) << "the reset did not start a new run";

  // Trained and saved: nothing to lose, nothing asked.
  session->step_once();
  ASSERT_TRUE(wait_until([&] { return step_of(*session) >= 1; }, 120000));
  drmm::test::TempDir dir;
  bool saved = false;
  QObject::connect(session, &SessionController::checkpoint_saved, [&](const QString&, const QString& error) {
    EXPECT_TRUE(error.isEmpty()) << error.toStdString();
    saved = true;
  });
  session->save_checkpoint(QString::fromStdString(dir / "run.drmm"));
  ASSERT_TRUE(wait_until([&] { return saved; }, 60000));
  EXPECT_EQ(session->unsaved_steps(), 0);
  ran = false;
  session->after_confirming("Reset starts a new run", [&] { ran = true; });
  ASSERT_TRUE(wait_until([&] { return ran; }, 5000));
  EXPECT_EQ(asked, 2) << "asked although everything was saved";
}

}  // namespace
}  // namespace drmm::ui
