/*
 * TLS material kept in memory.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "blob.h"

int
blobs_add(struct yaim_blobs *b, uint32_t kind, uint32_t index,
    const void *data, size_t len)
{
	struct yaim_blob	*v;
	uint8_t			*copy;

	if (len > BLOB_MAX_SIZE)
		return -1;
	if ((copy = malloc(len ? len : 1)) == NULL)
		return -1;
	if ((v = reallocarray(b->v, b->n + 1, sizeof(*v))) == NULL) {
		free(copy);
		return -1;
	}
	memcpy(copy, data, len);
	b->v = v;
	b->v[b->n].kind = kind;
	b->v[b->n].index = index;
	b->v[b->n].len = len;
	b->v[b->n].data = copy;
	b->n++;
	return 0;
}

/*
 * A secret the parent alone should read: owned by root, nothing for
 * group and others (as OpenSSH demands of its host keys).
 */
static int
secret_file_ok(const struct stat *st, const char *path, char *err,
    size_t errlen)
{
	if (st->st_uid == 0 && (st->st_mode & 077) == 0)
		return 0;
	snprintf(err, errlen, "%s: must be owned by root and not accessible "
	    "to group or others (owner uid %u, mode %04o)", path,
	    (unsigned int)st->st_uid, (unsigned int)(st->st_mode & 07777));
	return -1;
}

static int
blob_read_file(struct yaim_blobs *b, uint32_t kind, uint32_t index,
    const char *path, char *err, size_t errlen)
{
	struct stat	 st;
	uint8_t		*buf;
	ssize_t		 n;
	size_t		 off = 0;
	int		 fd, rc;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_size > BLOB_MAX_SIZE) {
		snprintf(err, errlen, "%s: not a regular file of at most %d "
		    "bytes", path, BLOB_MAX_SIZE);
		close(fd);
		return -1;
	}
	if (kind == BLOB_PEER_KEY && secret_file_ok(&st, path, err,
	    errlen) == -1) {
		close(fd);
		return -1;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		close(fd);
		return -1;
	}
	while (off < (size_t)st.st_size) {
		n = read(fd, buf + off, (size_t)st.st_size - off);
		if (n <= 0) {
			snprintf(err, errlen, "%s: short read", path);
			explicit_bzero(buf, (size_t)st.st_size);
			free(buf);
			close(fd);
			return -1;
		}
		off += (size_t)n;
	}
	close(fd);
	rc = blobs_add(b, kind, index, buf, off);
	explicit_bzero(buf, off);
	free(buf);
	if (rc == -1)
		snprintf(err, errlen, "%s: cannot keep in memory", path);
	return rc;
}

int
blobs_load(const struct yaim_config *conf, struct yaim_blobs *b, char *err,
    size_t errlen)
{
	uint32_t	 i;

	if (conf->etcd_ca_file[0] && blob_read_file(b, BLOB_ETCD_CA, 0,
	    conf->etcd_ca_file, err, errlen) == -1)
		return -1;
	if (conf->etcd_cert_file[0] && blob_read_file(b, BLOB_ETCD_CERT, 0,
	    conf->etcd_cert_file, err, errlen) == -1)
		return -1;
	if (conf->etcd_key_file[0] && blob_read_file(b, BLOB_ETCD_KEY, 0,
	    conf->etcd_key_file, err, errlen) == -1)
		return -1;
	if (conf->peers && conf->peer_key_file[0] &&
	    blob_read_file(b, BLOB_PEER_KEY, 0, conf->peer_key_file, err,
	    errlen) == -1)
		return -1;
	for (i = 0; i < conf->n_checks; i++) {
		if (conf->checks[i].http_ca_file[0] &&
		    blob_read_file(b, BLOB_HTTP_CA, i,
		    conf->checks[i].http_ca_file, err, errlen) == -1)
			return -1;
	}
	return 0;
}

const struct yaim_blob *
blobs_find(const struct yaim_blobs *b, uint32_t kind, uint32_t index)
{
	size_t	 i;

	for (i = 0; i < b->n; i++)
		if (b->v[i].kind == kind && b->v[i].index == index)
			return &b->v[i];
	return NULL;
}

void
blobs_free(struct yaim_blobs *b)
{
	size_t	 i;

	for (i = 0; i < b->n; i++) {
		explicit_bzero(b->v[i].data, b->v[i].len);
		free(b->v[i].data);
	}
	free(b->v);
	b->v = NULL;
	b->n = 0;
}
