import { useState } from 'preact/hooks';
import { toApiError } from '../api';

interface Props {
  /** Resolves once signed in; rejects with the reason the key was refused. */
  onSignIn: (apiKey: string) => Promise<void>;
  /** Why the previous session ended, if it did. */
  message?: string;
}

export function SignIn({ onSignIn, message }: Props) {
  const [apiKey, setApiKey] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const shown = error ?? message ?? null;

  const submit = async (e: Event) => {
    e.preventDefault();
    const key = apiKey.trim();
    if (!key) {
      setError('Enter an API key.');
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await onSignIn(key);
    } catch (err) {
      const apiError = toApiError(err);
      setError(
        apiError.code === 'UNAUTHENTICATED'
          ? 'That API key was not accepted.'
          : apiError.message || 'Sign-in failed.',
      );
      setBusy(false);
    }
  };

  return (
    <main class="signin">
      <form class="card signin-card" onSubmit={(e) => void submit(e)} noValidate>
        <h1>radgraph console</h1>
        <p class="muted">Sign in with an API key (VIEWER, OPERATOR or ADMIN).</p>
        {shown && (
          <p class="alert alert-error" role="alert" data-testid="login-error">
            {shown}
          </p>
        )}
        <label for="api-key">API key</label>
        <input
          id="api-key"
          type="password"
          autocomplete="off"
          spellcheck={false}
          value={apiKey}
          onInput={(e) => setApiKey(e.currentTarget.value)}
          data-testid="api-key-input"
          autoFocus
        />
        <button type="submit" class="primary" disabled={busy} data-testid="api-key-submit">
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
