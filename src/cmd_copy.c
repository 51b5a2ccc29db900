#include "cli.h"
int cmd_copy(Options *opts) { (void) opts; return EXIT_NOT_IMPLEMENTED; }
