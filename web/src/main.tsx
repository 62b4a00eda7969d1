/** Mounts the page into index.html's #app, with one ParleyClient for its lifetime. */
import './style.css';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { ParleyClient } from '../../client/index.js';
import { ParleyProvider } from '../../client/react/index.js';
import { App } from './app.js';

createRoot(document.getElementById('app')!).render(
  <StrictMode>
    {/* Same origin only: the page talks to the server that served it (no URL override that a
        crafted link could point elsewhere). Use the Vite dev server's proxy for development. */}
    <ParleyProvider client={new ParleyClient()}>
      <App />
    </ParleyProvider>
  </StrictMode>,
);
