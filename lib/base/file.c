/* Files: read-only maps, whole-file reads, atomic writes, directory creation (POSIX). */
#include "base.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

vkq_status vkq__file_map(vkq__diag *d, const char *path, vkq__mapped_file *out) {
    memset(out, 0, sizeof *out);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return vkq__fail(d, errno == ENOENT ? VKQ_ERR_NOT_FOUND : VKQ_ERR_IO, "open %s: %s",
                         path, strerror(errno));
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return vkq__fail(d, VKQ_ERR_IO, "stat %s: %s", path, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return vkq__fail(d, VKQ_ERR_IO, "%s: not a regular file", path);
    }
    out->size = (uint64_t)st.st_size;
    if (out->size == 0) {
        close(fd);
        out->data = (const uint8_t *)"";
        return VKQ_OK;
    }
    void *p = mmap(NULL, (size_t)out->size, PROT_READ, MAP_PRIVATE, fd, 0);
    int e = errno;
    close(fd);
    if (p == MAP_FAILED) {
        return vkq__fail(d, VKQ_ERR_IO, "mmap %s (%llu bytes): %s", path,
                         (unsigned long long)out->size, strerror(e));
    }
    out->data = p;
    out->impl = p;
    return VKQ_OK;
}

void vkq__file_unmap(vkq__mapped_file *f) {
    if (f && f->impl) munmap(f->impl, (size_t)f->size);
    if (f) memset(f, 0, sizeof *f);
}

vkq_status vkq__file_read(vkq__diag *d, const char *path, void **data, size_t *size) {
    *data = NULL;
    *size = 0;
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        return vkq__fail(d, errno == ENOENT ? VKQ_ERR_NOT_FOUND : VKQ_ERR_IO, "open %s: %s",
                         path, strerror(errno));
    }
    size_t cap = 1 << 16, n = 0;
    unsigned char *buf = malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - n, fp);
        if (n < cap) break;
        unsigned char *bigger = realloc(buf, cap * 2);
        if (!bigger) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = bigger;
        cap *= 2;
    }
    int err = ferror(fp);
    fclose(fp);
    if (!buf) return vkq__fail(d, VKQ_ERR_OUT_OF_HOST_MEMORY, "read %s: out of memory", path);
    if (err) {
        free(buf);
        return vkq__fail(d, VKQ_ERR_IO, "read %s failed", path);
    }
    *data = buf;
    *size = n;
    return VKQ_OK;
}

vkq_status vkq__file_write_atomic(vkq__diag *d, const char *path, const void *data,
                                  size_t size) {
    char tmp[4096];
    int n = snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    if (n < 0 || (size_t)n >= sizeof tmp) {
        return vkq__fail(d, VKQ_ERR_INVALID_ARGUMENT, "path too long: %s", path);
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return vkq__fail(d, VKQ_ERR_IO, "create %s: %s", tmp, strerror(errno));
    const uint8_t *p = data;
    size_t left = size;
    while (left > 0) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            int e = errno;
            close(fd);
            unlink(tmp);
            return vkq__fail(d, VKQ_ERR_IO, "write %s: %s", tmp, strerror(e));
        }
        p += w;
        left -= (size_t)w;
    }
    if (fsync(fd) != 0 || close(fd) != 0) {
        int e = errno;
        unlink(tmp);
        return vkq__fail(d, VKQ_ERR_IO, "flush %s: %s", tmp, strerror(e));
    }
    if (rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return vkq__fail(d, VKQ_ERR_IO, "rename %s to %s: %s", tmp, path, strerror(e));
    }
    return VKQ_OK;
}

vkq_status vkq__mkdirs(vkq__diag *d, const char *path) {
    char buf[4096];
    size_t len = strlen(path);
    if (len == 0 || len >= sizeof buf) {
        return vkq__fail(d, VKQ_ERR_INVALID_ARGUMENT, "bad directory path '%s'", path);
    }
    memcpy(buf, path, len + 1);
    for (size_t i = 1; i <= len; i++) {
        if (buf[i] != '/' && buf[i] != '\0') continue;
        char c = buf[i];
        buf[i] = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST) {
            return vkq__fail(d, VKQ_ERR_IO, "mkdir %s: %s", buf, strerror(errno));
        }
        buf[i] = c;
    }
    return VKQ_OK;
}
