/**
 * The ParleyClient a React tree talks through. The application makes the client (one per
 * page: it owns the socket) and hands it to <ParleyProvider>; hooks take it from there.
 */
import { createContext, createElement, useContext, type ReactNode } from 'react';
import type { ParleyClient } from '../index.js';

const ParleyContext = createContext<ParleyClient | null>(null);

export function ParleyProvider(props: { client: ParleyClient; children?: ReactNode }): ReactNode {
  return createElement(ParleyContext.Provider, { value: props.client }, props.children);
}

export function useParleyClient(): ParleyClient {
  const client = useContext(ParleyContext);
  if (!client) throw new Error('useParleyClient: no <ParleyProvider> above this component');
  return client;
}
