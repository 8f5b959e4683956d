// Svelte 5 strips TypeScript types itself: no preprocessor. Runes mode everywhere.
/** @type {import('@sveltejs/vite-plugin-svelte').SvelteConfig} */
export default {
  compilerOptions: {
    runes: true,
  },
};
