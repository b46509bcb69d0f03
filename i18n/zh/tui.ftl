# tui: ids tui-*.
