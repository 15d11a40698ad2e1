// Copies what the site serves from the npm packages into static/vendor (run by `make assets`):
// - @digital-go-jp/design-tokens: tokens.css (the Digital Agency design system's colour, type, spacing,
//   radius and elevation custom properties) with its licence;
// - @fontsource/noto-sans-jp: the woff2 files of weights 400 and 700 (split by unicode-range, so a page
//   loads only the parts holding its characters), one stylesheet for both, and the OFL licence.
// The output is committed; running this again with the same package-lock.json gives the same files.
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const modules = join(here, "node_modules");
const vendor = join(here, "..", "static", "vendor");
const WEIGHTS = [400, 700];

function version(name) {
  return JSON.parse(readFileSync(join(modules, name, "package.json"), "utf8")).version;
}

// The design tokens.
const tokensOut = join(vendor, "digital-go-jp");
rmSync(tokensOut, { recursive: true, force: true });
mkdirSync(tokensOut, { recursive: true });
const tokens = join(modules, "@digital-go-jp", "design-tokens");
writeFileSync(
  join(tokensOut, "tokens.css"),
  `/* @digital-go-jp/design-tokens ${version("@digital-go-jp/design-tokens")} (MIT, see LICENSE) */\n` +
    readFileSync(join(tokens, "dist", "tokens.css"), "utf8"),
);
copyFileSync(join(tokens, "LICENSE"), join(tokensOut, "LICENSE"));

// The font.
const fontOut = join(vendor, "noto-sans-jp");
rmSync(fontOut, { recursive: true, force: true });
mkdirSync(join(fontOut, "files"), { recursive: true });
const font = join(modules, "@fontsource", "noto-sans-jp");
let css = `/* @fontsource/noto-sans-jp ${version("@fontsource/noto-sans-jp")}: Noto Sans JP, SIL Open Font License 1.1 (see LICENSE) */\n`;
let files = 0;
for (const weight of WEIGHTS) {
  const source = readFileSync(join(font, `${weight}.css`), "utf8");
  // woff2 only: every browser the site supports reads it.
  css += source.replace(/,\s*url\(\.\/files\/[^)]+\.woff\) format\('woff'\)/g, "");
  for (const [, name] of source.matchAll(/url\(\.\/files\/([^)]+\.woff2)\)/g)) {
    copyFileSync(join(font, "files", name), join(fontOut, "files", name));
    files += 1;
  }
}
writeFileSync(join(fontOut, "noto-sans-jp.css"), css);
copyFileSync(join(font, "LICENSE"), join(fontOut, "LICENSE"));
console.log(`tokens.css and ${files} font files written under ${vendor}`);
