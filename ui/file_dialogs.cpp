#include "ui/file_dialogs.h"

#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QSettings>
#include <QStandardPaths>

namespace drmm::ui::dialogs {
namespace {

QString key(const QString& kind) { return "dialogs/" + kind; }

QString start_folder(const QString& kind) {
  const QString remembered = QSettings().value(key(kind)).toString();
  if (!remembered.isEmpty() && QFileInfo(remembered).isDir()) return remembered;
  const QString documents = QStandardPaths::writableLocation(QStandardPaths::DocumentsLocation);
  return QFileInfo(documents).isDir() ? documents : QDir::homePath();
}

// Remembers the folder of what was chosen; returns the choice.
QString remember(const QString& kind, const QString& chosen, bool is_folder) {
  if (!chosen.isEmpty()) QSettings().setValue(key(kind), is_folder ? chosen : QFileInfo(chosen).absolutePath());
  return chosen;
}

}  // namespace

QString open_file(QWidget* parent, const QString& title, const QString& filter, const QString& kind) {
  return remember(kind, QFileDialog::getOpenFileName(parent, title, start_folder(kind), filter), false);
}

QString open_folder(QWidget* parent, const QString& title, const QString& kind) {
  return remember(kind, QFileDialog::getExistingDirectory(parent, title, start_folder(kind)), true);
}

QString save_file(QWidget* parent, const QString& title, const QString& name, const QString& filter, const QString& kind) {
  return remember(kind, QFileDialog::getSaveFileName(parent, title, QDir(start_folder(kind)).filePath(name), filter),
                  false);
}

}  // namespace drmm::ui::dialogs
