/* Redis Cluster in C: CRC16 key hashing, the slot table and the per-command
 * router behind redis_native.cluster.RedisCluster.
 *
 * Python (redis_native/cluster.py) owns discovery, redirections, failover
 * and everything that is not the common case; C owns what runs for every
 * command: find the keys, hash them to a slot, look the slot's primary up in
 * the table and run the command through that node's Redis client (its own C
 * execute_command), all within one call.
 */
#ifndef RN_CLUSTER_H
#define RN_CLUSTER_H

#include "module.h"

#define RN_CLUSTER_SLOTS 16384

/* CRC16-CCITT (XMODEM), the checksum Redis Cluster hashes keys with. */
unsigned int rn_crc16(const char *buf, size_t len);
/* The hash slot of a key (already encoded), hash tags ("{...}") honoured. */
unsigned int rn_key_hash_slot(const char *key, size_t len);

/* _native.SlotTable: 16384 entries, each a list of ClusterNode objects
 * (primary first, then its replicas) or empty.  A mapping from slot number to
 * list, like redis-py's NodesManager.slots_cache dict.  The lists are shared
 * with Python: a list mutated in place (a failover seen through MOVED) is
 * seen by the router at once.  Touched only with the GIL held. */
typedef struct rn_slot_table {
    PyObject_HEAD
    PyObject *module;              /* strong */
    PyObject *slots[RN_CLUSTER_SLOTS];   /* strong list, or NULL */
    Py_ssize_t covered;            /* non-NULL entries */
    PyObject *weakreflist;
} rn_slot_table;

/* How the router picks the node of a read command while replicas may serve
 * reads: redis-py's LoadBalancer round robin over [primary, replicas...] or
 * over the replicas only; anything else (random replica, an unknown
 * strategy) is chosen in Python. */
enum { RN_LB_PRIMARY = 0, RN_LB_ROUND_ROBIN = 1, RN_LB_ROUND_ROBIN_REPLICAS = 2,
       RN_LB_PYTHON = 3 };

/* _native.ClusterBase: the C base of RedisCluster. */
typedef struct rn_cluster {
    PyObject_HEAD
    PyObject *module;              /* strong */
    rn_state *st;
    PyObject *slot_table;          /* rn_slot_table or NULL (routing disabled) */
    PyObject *key_specs;           /* dict: command name -> packed key positions */
    PyObject *read_commands;       /* set/frozenset of names, or NULL */
    PyObject *cluster_callbacks;   /* dict: name -> callable (cluster_response_callbacks) */
    PyObject *read_from_replicas;  /* any object, truth tested */
    PyObject *load_balancing_strategy;
    PyObject *encoding;            /* str */
    PyObject *encoding_errors;     /* str */
    PyObject *replica_router;      /* (nodes_manager, NodesManager.get_node_from_slot,
                                    * LoadBalancer.get_server_index) or NULL */
    int replica_reads;             /* read_from_replicas or a load_balancing_strategy */
    int lb_mode;                   /* RN_LB_*: how a read picks among a slot's nodes */
    int encoding_utf8;             /* `encoding` names UTF-8: ASCII str keys are their bytes */
    int overridden;                /* see rn_setattro_tracking */
    PyObject *weakreflist;
} rn_cluster;

extern PyType_Spec rn_slot_table_type_spec;
extern PyType_Spec rn_cluster_type_spec;
extern PyMethodDef rn_cluster_methods[];

#endif

/* The node C would run a command on (cluster_pipe.c groups a pipeline's
 * commands with it): 1 with *node a new reference to the slot's primary; 0
 * when Python must decide (no fixed key positions, cross-slot keys, a
 * routing flag or callback, replica reads, uncovered slot); -1 with an
 * exception set (a key that cannot be encoded).  GIL held; the caller
 * checks the stand-in rule. */
int rn_cluster_route(rn_cluster *self, PyObject *const *args, Py_ssize_t nargs, PyObject **node);

/* _route_stack and _roundtrip_many (cluster_pipe.c), added by module.c */
extern PyMethodDef rn_cluster_pipe_methods[];
