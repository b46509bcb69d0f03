# rows: ids rows-*.
