import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { connectApi, reloadNeeded } from './api/index';
import { App } from './App';
import { ApiProvider } from './api/context';
import './styles.css';

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element');
// The page's address must name the team server whose library is open, for the host to let the page reach it.
const reload = reloadNeeded();
if (reload) window.location.replace(reload);
else
  createRoot(root).render(
    <StrictMode>
      <ApiProvider api={connectApi()}>
        <App />
      </ApiProvider>
    </StrictMode>,
  );
