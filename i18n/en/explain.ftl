# explain: ids explain-*.
