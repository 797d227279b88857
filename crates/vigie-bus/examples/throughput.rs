//! Loopback throughput of the bus alone (no pipeline, no store): N messages of B bytes through
//! a `BufferedPublisher` until all are acknowledged, then read by the durable consumer in
//! batches of 500, each batch acknowledged. One `nats-server` on 127.0.0.1, file storage in a
//! temporary directory.
//!
//! `cargo run --release -p vigie-bus --example throughput -- [N=50000] [B=2048]`

use std::time::{Duration, Instant};

use vigie_bus::testing::NatsServer;
use vigie_bus::{msg_id, Bus, BusConfig, Bytes};

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let n: usize = args
        .next()
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(50_000);
    let size: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(2048);
    let dir = tempfile::tempdir()?;
    let server = NatsServer::start(dir.path())?;
    let bus = Bus::connect(&BusConfig::new(&server.url())).await?;

    let publisher = bus.publisher();
    let payload = Bytes::from(vec![b'x'; size]);
    let start = Instant::now();
    for i in 0..n {
        let id = msg_id(&[b"bench", &(i as u64).to_be_bytes()]);
        publisher.publish("document", &id, payload.clone()).await?;
    }
    let stats = publisher.flush().await?;
    let publish = start.elapsed();

    let consumer = bus.consumer().await?;
    let start = Instant::now();
    let mut got = 0;
    while got < n {
        let batch = consumer.fetch(500, Duration::from_secs(5)).await?;
        if batch.is_empty() {
            break;
        }
        got += batch.len();
        consumer.ack(&batch).await?;
    }
    let consume = start.elapsed();

    println!(
        "{n} messages of {size} B: published and acknowledged in {:.2} s ({:.0}/s; {} stored, {} duplicates)",
        publish.as_secs_f64(),
        n as f64 / publish.as_secs_f64(),
        stats.published,
        stats.duplicates
    );
    println!(
        "consumed {got} in batches of 500 with acks in {:.2} s ({:.0}/s)",
        consume.as_secs_f64(),
        got as f64 / consume.as_secs_f64()
    );
    Ok(())
}
