// Drives headless Chromium for pytest: one JSON command per stdin line, one JSON answer per
// stdout line ({id, ok, value} or {id, ok: false, error}). Each "open" gets a fresh browser
// context (no cookies, no storage) and records every request the page makes, with the headers
// Chromium really sent and received, so tests can assert what happened on the wire.
import { createInterface } from "node:readline";
import { chromium } from "playwright-core";

const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

// playwright-core makes a new, empty --user-data-dir for each launch.
const browser = await chromium.launch({
  executablePath: process.env.BASTION_CHROMIUM || "/usr/bin/chromium",
  args: FLAGS,
  timeout: 30_000,
});

let context = null;
let page = null;
let exchanges = [];
let logs = [];

function record(request) {
  const entry = { method: request.method(), url: request.url() };
  entry.done = (async () => {
    entry.requestHeaders = await request.allHeaders();
    const response = await request.response();
    if (response) {
      entry.status = response.status();
      entry.responseHeaders = await response.allHeaders();
    } else {
      entry.failure = request.failure()?.errorText ?? "no response";
    }
  })().catch((error) => {
    entry.failure = String(error);
  });
  exchanges.push(entry);
}

async function settled(entries) {
  await Promise.all(entries.map((e) => e.done));
  return entries.map(({ done, ...rest }) => rest);
}

const ops = {
  async open({ url, clockMs }) {
    if (context) await context.close();
    context = await browser.newContext();
    page = await context.newPage();
    exchanges = [];
    logs = [];
    page.on("request", record);
    page.on("console", (m) => logs.push(`${m.type()}: ${m.text()}`));
    page.on("pageerror", (e) => logs.push(`pageerror: ${e.message}`));
    // A controllable Date.now()/timers, so tests can move the page's time with the server's.
    if (clockMs !== undefined) await page.clock.install({ time: clockMs });
    await page.goto(url);
    // page.js is a blocking script: once "load" fired, window.e2e exists or the page broke.
    if (!(await page.evaluate(() => window.e2e !== undefined))) {
      throw new Error(`the test page did not load: ${logs.join("; ")}`);
    }
    return true;
  },
  // Calls window.e2e[fn](...args) in the page.
  call: ({ fn, args = [] }) =>
    page.evaluate(([name, params]) => window.e2e[name](...params), [fn, args]),
  async network() {
    const taken = exchanges;
    exchanges = [];
    return settled(taken);
  },
  logs: () => logs.splice(0),
  async close() {
    if (context) await context.close();
    context = null;
    page = null;
    return true;
  },
  async fastForward({ ms }) {
    await page.clock.fastForward(ms);
    return true;
  },
};

const lines = createInterface({ input: process.stdin });
const send = (message) => process.stdout.write(JSON.stringify(message) + "\n");
send({ id: 0, ok: true, value: "ready" });
for await (const line of lines) {
  if (!line.trim()) continue;
  const { id, op, ...params } = JSON.parse(line);
  try {
    send({ id, ok: true, value: (await ops[op](params)) ?? null });
  } catch (error) {
    send({ id, ok: false, error: String(error && error.stack ? error.stack : error) });
  }
}
await browser.close();
