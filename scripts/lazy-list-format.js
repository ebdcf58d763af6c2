// Injected by esbuild.config.mjs, which points every `Intl.ListFormat` of the bundle here: the real
// Intl.ListFormat (it loads ICU data) is built on first use, not when a dependency is imported.
// `globalThis.Intl` is out of the define's reach, so this names the real one.
export class LazyListFormat {
  #args;
  #made;

  constructor(...args) {
    this.#args = args;
  }

  #real() {
    this.#made ??= new globalThis.Intl.ListFormat(...this.#args);
    return this.#made;
  }

  format(list) {
    return this.#real().format(list);
  }

  formatToParts(list) {
    return this.#real().formatToParts(list);
  }

  resolvedOptions() {
    return this.#real().resolvedOptions();
  }
}
