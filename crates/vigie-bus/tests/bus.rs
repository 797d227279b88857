//! Against a real `nats-server` (Debian's 2.9) on 127.0.0.1: publish, dedup, redelivery,
//! checkpoints across a restart, buffering through an outage, and an R3 stream losing a node.
//! No speed is asserted; waits have generous deadlines.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use vigie_bus::testing::{free_port, NatsCluster, NatsServer};
use vigie_bus::{msg_id, Bus, BusConfig, BusError, Bytes, Delivery};

fn init_logs() {
    let _ = tracing_subscriber::fmt()
        .with_test_writer()
        .with_env_filter("vigie_bus=debug")
        .try_init();
}

/// Short waits so redelivery and retries happen within a test.
fn config(urls: &str) -> BusConfig {
    BusConfig {
        ack_wait_secs: 2,
        request_timeout_secs: 2,
        ..BusConfig::new(urls)
    }
}

/// Connects, retrying while the error is transient (JetStream electing its leader).
async fn connect(cfg: &BusConfig) -> Bus {
    match Bus::connect_with_retry(cfg, Some(Duration::from_secs(90))).await {
        Ok(bus) => bus,
        Err(e) => panic!("connect: {e}"),
    }
}

/// Everything the consumer holds, acknowledged batch by batch, until `expected` messages
/// came and then nothing more within a few seconds (so an extra copy would be seen).
async fn drain(bus: &Bus, expected: usize) -> Vec<(String, String, Bytes)> {
    let deadline = Instant::now() + Duration::from_secs(120);
    // In a cluster that just lost a node, creating the consumer may time out for a while.
    let consumer = loop {
        match bus.consumer().await {
            Ok(c) => break c,
            Err(e) if e.is_transient() && Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(300)).await
            }
            Err(e) => panic!("consumer: {e}"),
        }
    };
    let mut got = Vec::new();
    while got.len() < expected && Instant::now() < deadline {
        match consumer.fetch(100, Duration::from_secs(2)).await {
            Ok(batch) => {
                record(&mut got, &batch);
                consumer.ack(&batch).await.expect("ack");
            }
            Err(e) if e.is_transient() => tokio::time::sleep(Duration::from_millis(300)).await,
            Err(e) => panic!("fetch: {e}"),
        }
    }
    // Past ack_wait: anything unacknowledged or duplicated would show up now.
    let extra = consumer
        .fetch(100, Duration::from_secs(4))
        .await
        .expect("last fetch");
    record(&mut got, &extra);
    consumer.ack(&extra).await.expect("ack");
    got
}

fn record(got: &mut Vec<(String, String, Bytes)>, batch: &[Delivery]) {
    for d in batch {
        got.push((
            d.kind().to_string(),
            d.msg_id().unwrap_or_default().to_string(),
            d.payload().clone(),
        ));
    }
}

fn ids(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| msg_id(&[b"test-source", format!("post/{i}").as_bytes(), b"hash"]))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publish_fetch_ack() {
    init_logs();
    let dir = tempfile::tempdir().unwrap();
    let server = NatsServer::start(dir.path()).unwrap();
    let bus = connect(&config(&server.url())).await;
    let a = bus
        .publish("document", "id-a", Bytes::from_static(b"first"))
        .await
        .unwrap();
    let b = bus
        .publish("health", "id-b", Bytes::from_static(b"second"))
        .await
        .unwrap();
    assert!(!a.duplicate && !b.duplicate);
    assert!(b.sequence > a.sequence);

    let consumer = bus.consumer().await.unwrap();
    let batch = consumer.fetch(10, Duration::from_secs(10)).await.unwrap();
    assert_eq!(batch.len(), 2, "{batch:?}");
    assert_eq!(batch[0].kind(), "document");
    assert_eq!(batch[0].payload().as_ref(), b"first");
    assert_eq!(batch[0].msg_id(), Some("id-a"));
    assert_eq!(batch[0].delivered(), 1);
    assert_eq!(batch[0].sequence(), a.sequence);
    assert_eq!(batch[1].kind(), "health");
    assert_eq!(batch[1].payload().as_ref(), b"second");
    consumer.ack(&batch).await.unwrap();

    // Acknowledged: not delivered again after ack_wait (2 s), and gone from the work queue.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let again = consumer.fetch(10, Duration::from_secs(1)).await.unwrap();
    assert!(again.is_empty(), "{again:?}");
    let js = async_nats::jetstream::new(async_nats::connect(server.url()).await.unwrap());
    let mut stream = js.get_stream("VIGIE_EVENTS").await.unwrap();
    assert_eq!(stream.info().await.unwrap().state.messages, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn same_msg_id_twice_is_one_message() {
    init_logs();
    let dir = tempfile::tempdir().unwrap();
    let server = NatsServer::start(dir.path()).unwrap();
    let bus = connect(&config(&server.url())).await;
    let id = msg_id(&[b"tor:forum", b"http://x.onion/t/1", b"sha256:aa"]);
    let first = bus
        .publish("document", &id, Bytes::from_static(b"post"))
        .await
        .unwrap();
    let second = bus
        .publish("document", &id, Bytes::from_static(b"post"))
        .await
        .unwrap();
    assert!(!first.duplicate);
    assert!(second.duplicate);
    assert_eq!(second.sequence, first.sequence);
    // Same payload under another id is another message.
    let other = bus
        .publish("document", "other-id", Bytes::from_static(b"post"))
        .await
        .unwrap();
    assert!(!other.duplicate);

    let got = drain(&bus, 2).await;
    let seen: Vec<&str> = got.iter().map(|(_, id, _)| id.as_str()).collect();
    assert_eq!(seen, vec![id.as_str(), "other-id"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unacknowledged_message_is_redelivered_to_a_new_consumer() {
    init_logs();
    let dir = tempfile::tempdir().unwrap();
    let server = NatsServer::start(dir.path()).unwrap();
    let cfg = config(&server.url());
    {
        let bus = connect(&cfg).await;
        bus.publish("document", "only", Bytes::from_static(b"payload"))
            .await
            .unwrap();
        let consumer = bus.consumer().await.unwrap();
        let batch = consumer.fetch(10, Duration::from_secs(10)).await.unwrap();
        assert_eq!(batch.len(), 1);
        assert_eq!(batch[0].delivered(), 1);
        // A recorder killed before storing: the batch and the connection go, unacknowledged.
    }
    let bus = connect(&cfg).await;
    let consumer = bus.consumer().await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let batch = loop {
        let b = consumer.fetch(10, Duration::from_secs(5)).await.unwrap();
        if !b.is_empty() || Instant::now() > deadline {
            break b;
        }
    };
    assert_eq!(batch.len(), 1, "the message did not come back");
    assert_eq!(batch[0].msg_id(), Some("only"));
    assert_eq!(batch[0].payload().as_ref(), b"payload");
    assert_eq!(batch[0].delivered(), 2);
    consumer.ack(&batch).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checkpoints_survive_a_server_restart() {
    init_logs();
    let dir = tempfile::tempdir().unwrap();
    let mut server = NatsServer::start(dir.path()).unwrap();
    let cfg = config(&server.url());
    let bus = connect(&cfg).await;
    let cp = bus.checkpoints().await.unwrap();
    assert_eq!(cp.get("tor:abc.onion/forum").await.unwrap(), None);
    cp.put("tor:abc.onion/forum", Bytes::from_static(b"page=7"))
        .await
        .unwrap();
    cp.put("telegram:@channel", Bytes::from_static(b"msg=42"))
        .await
        .unwrap();

    server.kill();
    let down = cp.get("tor:abc.onion/forum").await.unwrap_err();
    assert!(down.is_transient(), "{down}");
    tokio::time::sleep(Duration::from_secs(2)).await;
    server.restart().unwrap();

    // The same connection, once it has reconnected.
    let deadline = Instant::now() + Duration::from_secs(60);
    let value = loop {
        match cp.get("tor:abc.onion/forum").await {
            Ok(v) => break v,
            Err(e) if e.is_transient() && Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(300)).await
            }
            Err(e) => panic!("get after restart: {e}"),
        }
    };
    assert_eq!(value.as_deref(), Some(&b"page=7"[..]));
    cp.put("tor:abc.onion/forum", Bytes::from_static(b"page=8"))
        .await
        .unwrap();

    // And a new connection sees the latest values.
    let other = connect(&cfg).await.checkpoints().await.unwrap();
    assert_eq!(
        other.get("tor:abc.onion/forum").await.unwrap().as_deref(),
        Some(&b"page=8"[..])
    );
    assert_eq!(
        other.get("telegram:@channel").await.unwrap().as_deref(),
        Some(&b"msg=42"[..])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publisher_buffers_and_pauses_through_an_outage() {
    init_logs();
    let dir = tempfile::tempdir().unwrap();
    let mut server = NatsServer::start(dir.path()).unwrap();
    let cfg = BusConfig {
        publish_buffer: 20,
        ..config(&server.url())
    };
    let bus = connect(&cfg).await;
    let publisher = bus.publisher();
    let n = 1000;
    let ids = ids(n);

    for id in &ids[..100] {
        publisher
            .publish("document", id, Bytes::from(id.clone()))
            .await
            .unwrap();
    }
    publisher.flush().await.unwrap();
    server.kill();

    // The rest while the server is down: the buffer fills and the collector pauses.
    let p = publisher.clone();
    let rest = ids[100..].to_vec();
    let collector = tokio::spawn(async move {
        for id in &rest {
            p.publish("document", id, Bytes::from(id.clone()))
                .await
                .unwrap();
        }
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    while !publisher.is_degraded() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(publisher.is_degraded(), "the outage was not noticed");
    // The buffer (20) plus what the task holds (at most 2 × 256) is less than the 900 left.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(!collector.is_finished(), "the collector should be paused");
    let pending = publisher.pending();
    assert!(
        pending > 0 && pending < (n - 100) as u64,
        "pending {pending}"
    );

    server.restart().unwrap();
    tokio::time::timeout(Duration::from_secs(120), collector)
        .await
        .expect("collector resumed")
        .unwrap();
    let stats = tokio::time::timeout(Duration::from_secs(120), publisher.flush())
        .await
        .expect("flush in time")
        .unwrap();
    assert_eq!(stats.published + stats.duplicates, n as u64, "{stats:?}");
    assert!(stats.retries > 0, "{stats:?}");
    assert_eq!(publisher.pending(), 0);
    assert!(!publisher.is_degraded());

    let got = drain(&bus, n).await;
    assert_eq!(got.len(), n, "every message exactly once");
    let got_ids: BTreeSet<&str> = got.iter().map(|(_, id, _)| id.as_str()).collect();
    let want: BTreeSet<&str> = ids.iter().map(String::as_str).collect();
    assert_eq!(got_ids, want);
    for (kind, id, payload) in &got {
        assert_eq!(kind, "document");
        assert_eq!(payload.as_ref(), id.as_bytes());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r3_stream_loses_nothing_when_a_node_dies() {
    init_logs();
    let dir = tempfile::tempdir().unwrap();
    let mut cluster = NatsCluster::start(3, dir.path()).unwrap();
    let cfg = BusConfig {
        replicas: 3,
        ..config(&cluster.urls())
    };
    let bus = connect(&cfg).await;
    let publisher = bus.publisher();
    let n = 600;
    let ids = ids(n);
    for id in &ids[..200] {
        publisher
            .publish("document", id, Bytes::from(id.clone()))
            .await
            .unwrap();
    }

    // Kill the stream's leader (the hardest node to lose) while messages are in flight.
    let js = async_nats::jetstream::new(async_nats::connect(cluster.nodes[0].url()).await.unwrap());
    let mut stream = js.get_stream("VIGIE_EVENTS").await.unwrap();
    let info = stream.info().await.unwrap();
    assert_eq!(info.config.num_replicas, 3);
    let leader = info
        .cluster
        .as_ref()
        .and_then(|c| c.leader.clone())
        .expect("stream leader");
    drop(js);
    let node = cluster
        .nodes
        .iter_mut()
        .find(|s| {
            std::fs::read_to_string(dir.path().join(&leader).join("server.conf"))
                .map(|c| c.contains(&format!("listen: 127.0.0.1:{}\n", s.port())))
                .unwrap_or(false)
        })
        .expect("leader node");
    node.kill();

    for id in &ids[200..] {
        publisher
            .publish("document", id, Bytes::from(id.clone()))
            .await
            .unwrap();
    }
    let stats = tokio::time::timeout(Duration::from_secs(180), publisher.flush())
        .await
        .expect("flush in time")
        .unwrap();
    assert_eq!(stats.published + stats.duplicates, n as u64, "{stats:?}");

    let got = drain(&bus, n).await;
    assert_eq!(got.len(), n, "every message exactly once");
    let got_ids: BTreeSet<&str> = got.iter().map(|(_, id, _)| id.as_str()).collect();
    assert_eq!(got_ids.len(), n);
    assert!(ids.iter().all(|id| got_ids.contains(id.as_str())));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_say_whether_to_retry() {
    init_logs();
    // Nobody listening: transient.
    let port = free_port().unwrap();
    let e = Bus::connect(&config(&format!("nats://127.0.0.1:{port}")))
        .await
        .unwrap_err();
    assert!(matches!(e, BusError::Unreachable(_)), "{e:?}");
    assert!(e.is_transient());

    let dir = tempfile::tempdir().unwrap();
    let server = NatsServer::start(dir.path()).unwrap();
    // Three replicas on a single server: refused for good, with the server's reason.
    let r3 = BusConfig {
        replicas: 3,
        ..config(&server.url())
    };
    let e = Bus::connect(&r3).await.unwrap_err();
    assert!(!e.is_transient(), "{e:?}");
    assert!(matches!(e, BusError::Refused { .. }), "{e:?}");

    let bus = connect(&config(&server.url())).await;
    // Bigger than the server's max_payload (1 MiB by default): refused before sending.
    let big = Bytes::from(vec![0u8; 2 << 20]);
    let e = bus
        .publish("document", "big", big.clone())
        .await
        .unwrap_err();
    assert!(matches!(e, BusError::TooLarge { .. }), "{e:?}");
    assert!(!e.is_transient());
    let e = bus
        .publisher()
        .publish("document", "big", big)
        .await
        .unwrap_err();
    assert!(matches!(e, BusError::TooLarge { .. }), "{e:?}");
    // A kind that is not one subject token.
    let e = bus
        .publish("doc.ument", "x", Bytes::from_static(b"x"))
        .await
        .unwrap_err();
    assert!(matches!(e, BusError::Invalid { .. }), "{e:?}");
}

/// The `authorization` block of `ops/nats/n1.conf`, uncommented: the example is what is tested.
fn example_authorization() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../ops/nats/n1.conf");
    let conf = std::fs::read_to_string(path).unwrap();
    let mut out = String::new();
    let mut inside = false;
    for line in conf.lines() {
        let line = line.strip_prefix('#').unwrap_or(line);
        let line = line.strip_prefix(' ').unwrap_or(line);
        if line.starts_with("authorization {") {
            inside = true;
        }
        if inside {
            out.push_str(line);
            out.push('\n');
            if line == "}" {
                break;
            }
        }
    }
    assert!(out.contains("user: collector"), "{out}");
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passwords_from_the_environment_and_the_example_permissions() {
    init_logs();
    let dir = tempfile::tempdir().unwrap();
    let server = NatsServer::start_with(
        dir.path(),
        &example_authorization(),
        &[
            ("VIGIE_COLLECTOR_PASSWORD", "collector-pw-41"),
            ("VIGIE_RECORDER_PASSWORD", "recorder-pw-42"),
        ],
    )
    .unwrap();
    std::env::set_var("VIGIE_BUS_TEST_COLLECTOR_PW", "collector-pw-41");
    std::env::set_var("VIGIE_BUS_TEST_RECORDER_PW", "recorder-pw-42");
    std::env::set_var("VIGIE_BUS_TEST_WRONG_PW", "not-the-password");
    let as_user = |user: &str, var: &str| BusConfig {
        user: Some(user.to_string()),
        password_env: Some(var.to_string()),
        ..config(&server.url())
    };

    // No credentials, or a wrong password: refused for good.
    let e = Bus::connect(&config(&server.url())).await.unwrap_err();
    assert!(matches!(e, BusError::Auth(_)), "{e:?}");
    assert!(!e.is_transient());
    let wrong = as_user("collector", "VIGIE_BUS_TEST_WRONG_PW");
    let e = Bus::connect(&wrong).await.unwrap_err();
    assert!(matches!(e, BusError::Auth(_)), "{e:?}");
    assert!(!format!("{e} {e:?} {wrong:?}").contains("not-the-password"));
    // A variable that is not set: a configuration error naming it.
    let unset = as_user("collector", "VIGIE_BUS_TEST_UNSET_PW");
    let e = Bus::connect(&unset).await.unwrap_err();
    assert!(
        e.to_string().contains("VIGIE_BUS_TEST_UNSET_PW is not set"),
        "{e}"
    );

    // The collector creates the stream and bucket, publishes, keeps checkpoints...
    let collector = connect(&as_user("collector", "VIGIE_BUS_TEST_COLLECTOR_PW")).await;
    collector
        .publish("document", "doc-1", Bytes::from_static(b"event"))
        .await
        .unwrap();
    let cp = collector.checkpoints().await.unwrap();
    cp.put("tor:forum", Bytes::from_static(b"p=2"))
        .await
        .unwrap();
    assert_eq!(
        cp.get("tor:forum").await.unwrap().as_deref(),
        Some(&b"p=2"[..])
    );
    // ...and cannot read events.
    let e = collector.consumer().await.unwrap_err();
    assert!(matches!(e, BusError::Auth(_)), "{e:?}");
    assert!(!e.is_transient());

    // The recorder reads and acknowledges them.
    let recorder = connect(&as_user("recorder", "VIGIE_BUS_TEST_RECORDER_PW")).await;
    let got = drain(&recorder, 1).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].1, "doc-1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_progress_holds_a_message_and_term_drops_it() {
    init_logs();
    let dir = tempfile::tempdir().unwrap();
    let server = NatsServer::start(dir.path()).unwrap();
    let cfg = BusConfig {
        ack_wait_secs: 3,
        ..config(&server.url())
    };
    let bus = connect(&cfg).await;
    bus.publish("document", "slow", Bytes::from_static(b"a"))
        .await
        .unwrap();
    bus.publish("document", "poison", Bytes::from_static(b"b"))
        .await
        .unwrap();
    let consumer = bus.consumer().await.unwrap();
    let batch = consumer.fetch(10, Duration::from_secs(10)).await.unwrap();
    assert_eq!(batch.len(), 2);
    let (slow, poison) = (&batch[..1], &batch[1]);
    consumer.term(poison).await.unwrap();

    // Worked on for 5 s, longer than ack_wait (3 s), with a progress note every second.
    let other = connect(&cfg).await.consumer().await.unwrap();
    for _ in 0..5 {
        tokio::time::sleep(Duration::from_secs(1)).await;
        consumer.in_progress(slow).await.unwrap();
    }
    let meanwhile = other.fetch(10, Duration::from_millis(500)).await.unwrap();
    assert!(meanwhile.is_empty(), "{meanwhile:?}");
    consumer.ack(slow).await.unwrap();

    // Neither comes back: one acknowledged, the other terminated.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let after = other.fetch(10, Duration::from_secs(1)).await.unwrap();
    assert!(after.is_empty(), "{after:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_with_retry_waits_for_a_late_server() {
    init_logs();
    let dir = tempfile::tempdir().unwrap();
    let mut server = NatsServer::start(dir.path()).unwrap();
    server.kill();
    let cfg = config(&server.url());
    // Bounded wait, server down: the transient error comes back.
    let e = Bus::connect_with_retry(&cfg, Some(Duration::from_secs(1)))
        .await
        .unwrap_err();
    assert!(e.is_transient(), "{e:?}");
    // Unbounded wait: connects once the server is up.
    let waiting = tokio::spawn(async move { Bus::connect_with_retry(&cfg, None).await });
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(!waiting.is_finished());
    server.restart().unwrap();
    let bus = tokio::time::timeout(Duration::from_secs(60), waiting)
        .await
        .expect("connected in time")
        .unwrap()
        .unwrap();
    bus.publish("document", "late", Bytes::from_static(b"x"))
        .await
        .unwrap();
}

/// A private CA and a server certificate for 127.0.0.1, made with the `openssl` command.
fn make_certs(
    dir: &std::path::Path,
) -> (std::path::PathBuf, std::path::PathBuf, std::path::PathBuf) {
    let run = |args: &[&str]| {
        let out = std::process::Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("openssl (ops/deps.sh installs it)");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    std::fs::write(
        dir.join("server.ext"),
        "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1\n",
    )
    .unwrap();
    run(&[
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=vigie test CA",
    ]);
    run(&[
        "req",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=127.0.0.1",
    ]);
    run(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.pem",
        "-days",
        "2",
        "-extfile",
        "server.ext",
    ]);
    (
        dir.join("ca.pem"),
        dir.join("server.pem"),
        dir.join("server.key"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_with_a_private_ca() {
    init_logs();
    let dir = tempfile::tempdir().unwrap();
    let (ca, cert, key) = make_certs(dir.path());
    let tls = format!("tls {{\n  cert_file: {cert:?}\n  key_file: {key:?}\n}}\n");
    let server = NatsServer::start_with(dir.path(), &tls, &[]).unwrap();
    let url = format!("tls://127.0.0.1:{}", server.port());

    // The server's CA given: connected over TLS.
    let with_ca = BusConfig {
        tls_ca_file: Some(ca),
        tls_required: true,
        ..config(&url)
    };
    let bus = connect(&with_ca).await;
    bus.publish("document", "over-tls", Bytes::from_static(b"x"))
        .await
        .unwrap();
    assert_eq!(drain(&bus, 1).await.len(), 1);

    // Without it the certificate is not trusted: a TLS error, not retried.
    let e = Bus::connect(&config(&url)).await.unwrap_err();
    assert!(matches!(e, BusError::Tls(_)), "{e:?}");
    assert!(!e.is_transient());
    // A CA file that does not exist: a configuration error.
    let missing = BusConfig {
        tls_ca_file: Some(dir.path().join("nope.pem")),
        ..config(&url)
    };
    let e = Bus::connect(&missing).await.unwrap_err();
    assert!(matches!(e, BusError::Config(_)), "{e:?}");

    // tls_required against a server without TLS: refused.
    let plain_dir = tempfile::tempdir().unwrap();
    let plain = NatsServer::start(plain_dir.path()).unwrap();
    let e = Bus::connect(&BusConfig {
        tls_required: true,
        ..config(&plain.url())
    })
    .await
    .unwrap_err();
    assert!(matches!(e, BusError::Tls(_)), "{e:?}");
    assert!(!e.is_transient());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nkey_seed_from_the_environment() {
    init_logs();
    let dir = tempfile::tempdir().unwrap();
    let user = nkeys::KeyPair::new_user();
    let auth = format!(
        "authorization {{\n  users: [ {{ nkey: {} }} ]\n}}\n",
        user.public_key()
    );
    let server = NatsServer::start_with(dir.path(), &auth, &[]).unwrap();
    std::env::set_var("VIGIE_BUS_TEST_NKEY_SEED", user.seed().unwrap());
    let with_seed = BusConfig {
        nkey_seed_env: Some("VIGIE_BUS_TEST_NKEY_SEED".to_string()),
        ..config(&server.url())
    };
    let bus = connect(&with_seed).await;
    bus.publish("document", "signed-in", Bytes::from_static(b"x"))
        .await
        .unwrap();
    // Another user's seed: refused.
    std::env::set_var(
        "VIGIE_BUS_TEST_OTHER_SEED",
        nkeys::KeyPair::new_user().seed().unwrap(),
    );
    let other = BusConfig {
        nkey_seed_env: Some("VIGIE_BUS_TEST_OTHER_SEED".to_string()),
        ..config(&server.url())
    };
    let e = Bus::connect(&other).await.unwrap_err();
    assert!(matches!(e, BusError::Auth(_)), "{e:?}");
}
