/*
 * The control socket (DESIGN.md section 13): created by the parent as
 * root before the children start, handed to dcs, which serves it; the
 * parent never reads from it.
 */
#ifndef YAIM_PARENT_CTLSOCK_H
#define YAIM_PARENT_CTLSOCK_H

#include <stddef.h>

#include "config.h"

/*
 * control-group, when set, must name a group: fills conf->control_gid.
 * 0, or -1 and "file:line:column: ..." in err.
 */
int	ctlsock_check_config(struct yaim_config *, char *err, size_t errlen);
/*
 * Bind and listen on conf->control_socket: 0600 root:root, or 0660 with
 * control-group.  A socket left behind by a yaimd that is gone (connect
 * refused) is replaced; one that answers makes this fail.  Returns the
 * fd, or -1 and why in err.
 */
int	ctlsock_open(const struct yaim_config *, char *err, size_t errlen);
/* Remove the socket made by ctlsock_open, if it is still ours. */
void	ctlsock_unlink(void);

#endif
