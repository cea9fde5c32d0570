/*
 * The child executables (yaimd-checker, yaimd-dcs), opened by the parent
 * at start-up and exec'd through those fds (DESIGN.md section 1).
 */
#ifndef YAIM_HELPER_H
#define YAIM_HELPER_H

#include <stddef.h>

/*
 * Open the executable yaimd-<name>, O_RDONLY | O_CLOEXEC, for
 * execveat(fd, "", ..., AT_EMPTY_PATH).  It lives in YAIM_LIBEXECDIR when
 * the running yaimd is the installed YAIM_SBINDIR/yaimd, else beside the
 * running yaimd (a build tree).  It and its directory must be owned by
 * root or by the owner of the running yaimd, and not writable by group
 * or others.  -1 with err saying what is wrong.
 */
int	helper_open(const char *name, char *err, size_t errlen);

#endif
