// A real browser for Nexus's end-to-end tests: drives the system Chromium (playwright-core, no
// browser download) through a hosted flow as a person would, and prints one JSON line:
// {"url": <where the browser ended>, "violations": [<console messages about a Content Security
// Policy>], "pages": [<URLs visited>]}.
//   node browser.mjs capture <capture form URL> <return URL prefix> <field>=<value>...
//   node browser.mjs cancel <capture form URL> <return URL prefix>
//   node browser.mjs consent <authorization URL> <return URL prefix>
// CHROMIUM names the browser binary (default /usr/bin/chromium).
import { chromium } from 'playwright-core';

const [mode, start, returnPrefix, ...fields] = process.argv.slice(2);
if (!['capture', 'cancel', 'consent'].includes(mode) || !start || !returnPrefix) {
  console.error('usage: node browser.mjs capture|cancel|consent <start URL> <return URL prefix> [field=value...]');
  process.exit(2);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu'],
});
const violations = [];
const pages = [];
try {
  const page = await browser.newPage();
  page.on('console', (message) => {
    if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
  });
  page.on('framenavigated', (frame) => {
    if (frame === page.mainFrame()) pages.push(frame.url());
  });
  const arrived = () => page.url().startsWith(returnPrefix);
  await page.goto(start);
  if (mode === 'capture') {
    for (const field of fields) {
      const at = field.indexOf('=');
      await page.fill(`input[name="${field.slice(0, at)}"]`, field.slice(at + 1));
    }
    await page.click('button[type="submit"]');
  } else if (mode === 'cancel') {
    await page.click('a#cancel');
  } else {
    // oidc-provider's development pages: sign in, then consent.
    for (let step = 0; step < 5 && !arrived(); step += 1) {
      await page.waitForLoadState();
      if (arrived()) break;
      if (await page.locator('input[name="login"]').count()) {
        await page.fill('input[name="login"]', 'alice');
        await page.fill('input[name="password"]', 'any');
      }
      await Promise.all([page.waitForNavigation(), page.click('button[type="submit"]')]);
    }
  }
  await page.waitForURL((url) => url.href.startsWith(returnPrefix), { timeout: 10000 }).catch(() => {});
  console.log(JSON.stringify({ url: page.url(), violations, pages }));
} finally {
  await browser.close();
}
