import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { connectApi } from './api/index';
import { App } from './App';
import { ApiProvider } from './api/context';
import './styles.css';

const api = connectApi();
const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element');
createRoot(root).render(
  <StrictMode>
    <ApiProvider api={api}>
      <App />
    </ApiProvider>
  </StrictMode>,
);
