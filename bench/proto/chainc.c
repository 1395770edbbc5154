/* PROTOTYPE, bench only (issue 18, item 5): chain_rows' per-entry work in C, to measure
 * what hashing and packing outside Python would give. Not part of the package: built by
 * bench/bench_appends_callgrind.py --proto-c and checked there, byte for byte, against
 * ledger.chain.chain_rows before anything is counted. No act (seal) here: the caller
 * finishes an act's last row in Python from the returned last entry bytes. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <openssl/sha.h>
#include <string.h>

static PyObject *s_oid, *s_ver, *s_topic, *s_state, *s_int;

/* The low-level calls on a context on the stack: OpenSSL 3's one-shot SHA256() fetches
 * the algorithm by name on every call (locks, string compares), measured ~2,000
 * instructions a hash more. The block function is the same (SHA-NI where the CPU has it). */
static void sha256(const void *data, size_t len, unsigned char *out) {
    SHA256_CTX c;
    SHA256_Init(&c);
    SHA256_Update(&c, data, len);
    SHA256_Final(out, &c);
}

static void be64(unsigned char *p, unsigned long long v) {
    for (int i = 7; i >= 0; i--) { p[i] = (unsigned char)(v & 0xff); v >>= 8; }
}
static void be32(unsigned char *p, unsigned long v) {
    for (int i = 3; i >= 0; i--) { p[i] = (unsigned char)(v & 0xff); v >>= 8; }
}

/* rows(ids, events, head_position, head_hash, domain, sqlite) -> (rows, last_entry) */
static PyObject *rows(PyObject *self, PyObject *args) {
    PyObject *ids, *events; long long position; Py_buffer head, domain; int sqlite;
    if (!PyArg_ParseTuple(args, "OOLy*y*p", &ids, &events, &position, &head, &domain, &sqlite))
        return NULL;
    PyObject *out = NULL, *last = NULL, *prev_blob = NULL;
    unsigned char prev[32], digest[32], core[32], *buf = NULL;
    Py_ssize_t n = PyList_Size(ids), cap = 0;
    if (n < 0 || head.len != 32 || PySequence_Size(events) != n) {
        PyErr_SetString(PyExc_ValueError, "ids, events or head"); goto done;
    }
    memcpy(prev, head.buf, 32);
    prev_blob = sqlite ? PyByteArray_FromStringAndSize((char *)prev, 32)
                       : PyBytes_FromStringAndSize((char *)prev, 32);
    out = PyList_New(n);
    if (!prev_blob || !out) goto fail;
    for (Py_ssize_t k = 0; k < n; k++) {
        PyObject *nid = PyList_GET_ITEM(ids, k), *e = PySequence_GetItem(events, k);
        if (!e) goto fail;
        PyObject *oid = PyObject_GetAttr(e, s_oid), *ver = PyObject_GetAttr(e, s_ver),
                 *topic = PyObject_GetAttr(e, s_topic), *state = PyObject_GetAttr(e, s_state);
        Py_DECREF(e);
        PyObject *oint = oid ? PyObject_GetAttr(oid, s_int) : NULL;
        Py_buffer sb = {0};
        Py_ssize_t tlen = 0; const char *tb = NULL;
        unsigned char ob[16];
        int bad = !oint || !ver || !topic || !state
                  || !(tb = PyUnicode_AsUTF8AndSize(topic, &tlen))
                  || _PyLong_AsByteArray((PyLongObject *)oint, ob, 16, 0, 0) < 0
                  || PyObject_GetBuffer(state, &sb, PyBUF_SIMPLE) < 0;
        unsigned long long v = bad ? 0 : PyLong_AsUnsignedLongLong(ver);
        unsigned long long id = bad ? 0 : PyLong_AsUnsignedLongLong(nid);
        if (!bad && PyErr_Occurred()) bad = 1;
        Py_ssize_t need = domain.len + 8 + 32 + 8 + 16 + 8 + 4 + tlen + 32 + 4;
        if (!bad && need > cap) {
            PyMem_Free(buf); cap = need * 2; buf = PyMem_Malloc(cap);
            if (!buf) { PyErr_NoMemory(); bad = 1; }
        }
        PyObject *row = NULL;
        if (!bad) {
            position += 1;
            sha256(sb.buf, sb.len, digest);
            unsigned char *p = buf;
            memcpy(p, domain.buf, domain.len); p += domain.len;
            be64(p, (unsigned long long)position); p += 8;
            memcpy(p, prev, 32); p += 32;
            be64(p, id); p += 8;
            memcpy(p, ob, 16); p += 16;
            be64(p, v); p += 8;
            be32(p, (unsigned long)tlen); p += 4;
            memcpy(p, tb, tlen); p += tlen;
            memcpy(p, digest, 32); p += 32;
            be32(p, 0); p += 4;
            sha256(buf, p - buf, core);
            memcpy(prev, core, 32);
            if (k == n - 1) last = PyBytes_FromStringAndSize((char *)buf, p - buf);
            PyObject *blob = sqlite ? PyByteArray_FromStringAndSize((char *)core, 32)
                                    : PyBytes_FromStringAndSize((char *)core, 32);
            PyObject *pos = PyLong_FromLongLong(position);
            if (sqlite)
                row = Py_BuildValue("(ONOONNNON)", nid,
                    PyByteArray_FromStringAndSize((char *)ob, 16), ver, topic,
                    PyByteArray_FromStringAndSize(sb.buf, sb.len), pos,
                    PyByteArray_FromStringAndSize((char *)digest, 32), prev_blob, blob);
            else
                row = Py_BuildValue("(OOOOONNONO)", nid, oid, ver, topic, state, pos,
                    PyBytes_FromStringAndSize((char *)digest, 32), prev_blob, blob, Py_None);
            Py_DECREF(prev_blob);
            prev_blob = blob; Py_XINCREF(prev_blob);
            if (row) PyList_SET_ITEM(out, k, row);
        }
        if (sb.obj) PyBuffer_Release(&sb);
        Py_XDECREF(oid); Py_XDECREF(oint); Py_XDECREF(ver); Py_XDECREF(topic); Py_XDECREF(state);
        if (bad || !row) goto fail;
    }
    PyObject *res = Py_BuildValue("(NN)", out, last ? last : PyBytes_FromStringAndSize("", 0));
    out = NULL;
    Py_XDECREF(prev_blob);
    PyMem_Free(buf); PyBuffer_Release(&head); PyBuffer_Release(&domain);
    return res;
fail:
    Py_XDECREF(out); Py_XDECREF(last);
done:
    Py_XDECREF(prev_blob);
    PyMem_Free(buf); PyBuffer_Release(&head); PyBuffer_Release(&domain);
    return NULL;
}

static PyMethodDef methods[] = {{"rows", rows, METH_VARARGS, NULL}, {NULL, NULL, 0, NULL}};
static struct PyModuleDef mod = {PyModuleDef_HEAD_INIT, "chainc", NULL, -1, methods};

PyMODINIT_FUNC PyInit_chainc(void) {
    s_oid = PyUnicode_InternFromString("originator_id");
    s_ver = PyUnicode_InternFromString("originator_version");
    s_topic = PyUnicode_InternFromString("topic");
    s_state = PyUnicode_InternFromString("state");
    s_int = PyUnicode_InternFromString("int");
    return PyModule_Create(&mod);
}
