// Improves the pages where JavaScript runs; every core flow works without it.
