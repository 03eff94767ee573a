import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'

// The build goes to dist/, which is committed and embedded in the binary (rust-embed): no
// source maps (they would double the binary's share), hashed names under assets/ (the server
// caches those for a year and never caches index.html).
export default defineConfig({
  plugins: [vue()],
  base: '/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: false,
    assetsDir: 'assets',
    target: 'es2022',
    chunkSizeWarningLimit: 600,
  },
  server: {
    // `npm run dev` against a running `ringlet serve` (its token still needed).
    proxy: { '/api': 'http://127.0.0.1:8765', '/ws': { target: 'ws://127.0.0.1:8765', ws: true } },
  },
})
