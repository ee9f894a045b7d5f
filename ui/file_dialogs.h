#pragma once
// File dialogs that open where the user last was for that kind of file (remembered in the
// settings under "dialogs/<kind>"), and in their documents folder the first time: never in the
// folder the app happened to be started from (the source tree, for a developer).
#include <QString>

class QWidget;

namespace drmm::ui::dialogs {

QString open_file(QWidget* parent, const QString& title, const QString& filter, const QString& kind);
QString open_folder(QWidget* parent, const QString& title, const QString& kind);
// `name`: the suggested file name, placed in the remembered folder.
QString save_file(QWidget* parent, const QString& title, const QString& name, const QString& filter, const QString& kind);

}  // namespace drmm::ui::dialogs
