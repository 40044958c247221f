/*
 * mock-broker: a real Kafka-protocol broker for tests, backed by librdkafka's
 * in-process mock cluster (librdkafka/rdkafka_mock.h).
 *
 * Built and driven by mock-kafka.ts; see there for the TypeScript API.
 *
 * Usage:
 *   mock-broker [-b BROKERS] [-p PARTITIONS] [TOPIC[:PARTITIONS] ...]
 *
 *   -b BROKERS     number of brokers (default: $MOCK_KAFKA_BROKERS or 1);
 *                  broker ids are 1..BROKERS
 *   -p PARTITIONS  partitions for topics given without ":N"
 *                  (default: $MOCK_KAFKA_PARTITIONS or 1)
 *   TOPIC[:N]      topics created up front, replication factor min(3, BROKERS)
 *
 *   $MOCK_KAFKA_DEBUG  optional librdkafka `debug` contexts (e.g. "mock,protocol"),
 *                      logged on stderr
 *
 * Protocol (line based):
 *   stdout, first line:  BOOTSTRAP host:port[,host:port...]
 *   stdin commands:      down <brokerId> | up <brokerId> |
 *                        topic <name> <partitions> | quit
 *   each answered with:  OK | ERR <reason>
 * The process exits cleanly on `quit` or when stdin reaches EOF, so it never
 * outlives the process that spawned it.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

static int replication_factor_for(int brokers) {
        return brokers < 3 ? brokers : 3;
}

/* Parses a positive int in [1, max]; returns 0 on failure. */
static int parse_count(const char *s, int max) {
        char *end;
        long v;

        if (!s || !*s)
                return 0;
        errno = 0;
        v     = strtol(s, &end, 10);
        if (errno || *end || v < 1 || v > max)
                return 0;
        return (int)v;
}

static int env_count(const char *name, int def, int max) {
        const char *v = getenv(name);
        int n;

        if (!v || !*v)
                return def;
        n = parse_count(v, max);
        if (!n) {
                fprintf(stderr, "mock-broker: invalid %s=%s\n", name, v);
                exit(2);
        }
        return n;
}

static void reply(rd_kafka_resp_err_t err) {
        if (err)
                printf("ERR %s\n", rd_kafka_err2str(err));
        else
                printf("OK\n");
        fflush(stdout);
}

static void reply_err(const char *reason) {
        printf("ERR %s\n", reason);
        fflush(stdout);
}

static rd_kafka_resp_err_t create_topic(rd_kafka_mock_cluster_t *mcluster,
                                        const char *name,
                                        int partitions,
                                        int brokers) {
        return rd_kafka_mock_topic_create(mcluster, name, partitions,
                                          replication_factor_for(brokers));
}

int main(int argc, char **argv) {
        char errstr[512];
        char line[1024];
        rd_kafka_conf_t *conf;
        rd_kafka_t *rk;
        rd_kafka_mock_cluster_t *mcluster;
        const char *debug;
        int brokers    = env_count("MOCK_KAFKA_BROKERS", 1, 64);
        int partitions = env_count("MOCK_KAFKA_PARTITIONS", 1, 10000);
        int opt;

        /* A parent that closes our stdout must not kill us mid-cleanup. */
        signal(SIGPIPE, SIG_IGN);

        while ((opt = getopt(argc, argv, "b:p:")) != -1) {
                switch (opt) {
                case 'b':
                        if (!(brokers = parse_count(optarg, 64))) {
                                fprintf(stderr, "mock-broker: invalid -b %s\n",
                                        optarg);
                                return 2;
                        }
                        break;
                case 'p':
                        if (!(partitions = parse_count(optarg, 10000))) {
                                fprintf(stderr, "mock-broker: invalid -p %s\n",
                                        optarg);
                                return 2;
                        }
                        break;
                default:
                        fprintf(stderr,
                                "usage: %s [-b BROKERS] [-p PARTITIONS] "
                                "[TOPIC[:PARTITIONS] ...]\n",
                                argv[0]);
                        return 2;
                }
        }

        /* The mock cluster is hosted by (and runs on threads of) an
         * rd_kafka_t instance; a producer handle that never produces. */
        conf = rd_kafka_conf_new();
        if (rd_kafka_conf_set(conf, "log_level", "4", errstr, sizeof(errstr)) !=
            RD_KAFKA_CONF_OK) {
                fprintf(stderr, "mock-broker: %s\n", errstr);
                return 1;
        }
        debug = getenv("MOCK_KAFKA_DEBUG");
        if (debug && *debug &&
            rd_kafka_conf_set(conf, "debug", debug, errstr, sizeof(errstr)) !=
                RD_KAFKA_CONF_OK) {
                fprintf(stderr, "mock-broker: %s\n", errstr);
                return 1;
        }
        rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
        if (!rk) {
                fprintf(stderr, "mock-broker: rd_kafka_new failed: %s\n",
                        errstr);
                return 1;
        }

        mcluster = rd_kafka_mock_cluster_new(rk, brokers);
        if (!mcluster) {
                fprintf(stderr,
                        "mock-broker: rd_kafka_mock_cluster_new(%d) failed\n",
                        brokers);
                rd_kafka_destroy(rk);
                return 1;
        }

        for (int i = optind; i < argc; i++) {
                char name[512];
                const char *colon = strchr(argv[i], ':');
                int parts         = partitions;
                size_t len = colon ? (size_t)(colon - argv[i]) : strlen(argv[i]);
                rd_kafka_resp_err_t err;

                if (len == 0 || len >= sizeof(name) ||
                    (colon && !(parts = parse_count(colon + 1, 10000)))) {
                        fprintf(stderr, "mock-broker: invalid topic spec %s\n",
                                argv[i]);
                        rd_kafka_mock_cluster_destroy(mcluster);
                        rd_kafka_destroy(rk);
                        return 2;
                }
                memcpy(name, argv[i], len);
                name[len] = '\0';
                if ((err = create_topic(mcluster, name, parts, brokers))) {
                        fprintf(stderr,
                                "mock-broker: creating topic %s failed: %s\n",
                                name, rd_kafka_err2str(err));
                        rd_kafka_mock_cluster_destroy(mcluster);
                        rd_kafka_destroy(rk);
                        return 1;
                }
        }

        printf("BOOTSTRAP %s\n", rd_kafka_mock_cluster_bootstraps(mcluster));
        fflush(stdout);

        while (fgets(line, sizeof(line), stdin)) {
                char cmd[32], arg[512], extra[8];
                int n;
                int id;

                line[strcspn(line, "\r\n")] = '\0';
                n = sscanf(line, "%31s %511s %7s", cmd, arg, extra);
                if (n < 1)
                        continue; /* blank line */

                if (!strcmp(cmd, "quit")) {
                        reply(RD_KAFKA_RESP_ERR_NO_ERROR);
                        break;
                } else if (!strcmp(cmd, "down") || !strcmp(cmd, "up")) {
                        if (n != 2 || !(id = parse_count(arg, 1 << 30))) {
                                reply_err("usage: down|up <brokerId>");
                                continue;
                        }
                        if (id > brokers) {
                                reply_err("unknown broker id");
                                continue;
                        }
                        reply(!strcmp(cmd, "down")
                                  ? rd_kafka_mock_broker_set_down(mcluster, id)
                                  : rd_kafka_mock_broker_set_up(mcluster, id));
                } else if (!strcmp(cmd, "topic")) {
                        int parts;
                        if (n != 3 || !(parts = parse_count(extra, 10000))) {
                                reply_err("usage: topic <name> <partitions>");
                                continue;
                        }
                        reply(create_topic(mcluster, arg, parts, brokers));
                } else {
                        reply_err("unknown command");
                }
        }

        /* Never hang on teardown: the parent may already be gone. */
        alarm(5);
        rd_kafka_mock_cluster_destroy(mcluster);
        rd_kafka_destroy(rk);
        return 0;
}
