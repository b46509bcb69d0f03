# cli: ids cli-*.
