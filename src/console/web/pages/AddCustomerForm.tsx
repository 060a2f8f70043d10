// The Add Customer form: createCustomer, with the server's field errors under their fields.
import { useEffect, useState } from 'preact/hooks';
import { toApiError } from '../api';
import { useQuery, useSession } from '../hooks';
import { CREATE_CUSTOMER, PROFILES } from '../queries';
import type { CreatedCustomer, ProfileRef } from '../types';

const FIELDS = ['username', 'password', 'phone', 'profileId', 'name', 'accountNo'] as const;
type FieldName = (typeof FIELDS)[number];
type Values = Record<FieldName, string>;

const EMPTY: Values = {
  username: '',
  password: '',
  phone: '',
  profileId: '',
  name: '',
  accountNo: '',
};

function isField(name: string | undefined): name is FieldName {
  return (FIELDS as readonly string[]).includes(name ?? '');
}

interface Props {
  onCancel: () => void;
  onCreated: (customer: CreatedCustomer) => void;
}

export function AddCustomerForm({ onCancel, onCreated }: Props) {
  const { api } = useSession();
  const profiles = useQuery<{ profiles: ProfileRef[] }>(PROFILES);
  const [values, setValues] = useState<Values>(EMPTY);
  const [fieldErrors, setFieldErrors] = useState<Partial<Values>>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  // Start on the first profile once they are known.
  const firstProfile = profiles.data?.profiles[0]?.id;
  useEffect(() => {
    if (firstProfile) setValues((v) => (v.profileId ? v : { ...v, profileId: firstProfile }));
  }, [firstProfile]);

  const set = (name: FieldName) => (e: { currentTarget: { value: string } }) => {
    const value = e.currentTarget.value;
    setValues((v) => ({ ...v, [name]: value }));
  };

  const submit = async (e: Event) => {
    e.preventDefault();
    const errors: Partial<Values> = {};
    if (!values.username.trim()) errors.username = 'Enter a username.';
    if (!values.profileId) errors.profileId = 'Choose a profile.';
    setFieldErrors(errors);
    setFormError(null);
    if (Object.keys(errors).length > 0) return;

    const optional = (v: string) => (v.trim() === '' ? undefined : v.trim());
    const input = {
      username: values.username.trim(),
      profileId: values.profileId,
      password: values.password === '' ? undefined : values.password,
      phone: optional(values.phone),
      name: optional(values.name),
      accountNo: optional(values.accountNo),
    };
    setBusy(true);
    try {
      const { createCustomer } = await api.request<{ createCustomer: CreatedCustomer }>(
        CREATE_CUSTOMER,
        { input },
      );
      onCreated(createCustomer);
    } catch (err) {
      const error = toApiError(err);
      const field = error.inputField;
      if (isField(field)) setFieldErrors({ [field]: error.message });
      else setFormError(error.message);
      setBusy(false);
    }
  };

  const fieldError = (name: FieldName) =>
    fieldErrors[name] && (
      <p class="field-error" id={`error-${name}`} data-testid={`field-error-${name}`}>
        {fieldErrors[name]}
      </p>
    );
  const input = (name: FieldName, label: string, type = 'text', hint?: string) => (
    <div class="form-row">
      <label for={`new-${name}`}>{label}</label>
      <input
        id={`new-${name}`}
        name={name}
        type={type}
        autocomplete={type === 'password' ? 'new-password' : 'off'}
        placeholder={hint}
        value={values[name]}
        onInput={set(name)}
        aria-invalid={fieldErrors[name] ? true : undefined}
        aria-describedby={fieldErrors[name] ? `error-${name}` : undefined}
      />
      {fieldError(name)}
    </div>
  );

  return (
    <form
      class="card form"
      data-testid="add-customer-form"
      aria-labelledby="add-customer-title"
      onSubmit={(e) => void submit(e)}
      noValidate
    >
      <h2 id="add-customer-title">Add Customer</h2>
      {formError && (
        <p class="alert alert-error" role="alert" data-testid="form-error">
          {formError}
        </p>
      )}
      {profiles.error && <p class="alert alert-error">{profiles.error.message}</p>}
      <div class="form-grid">
        {input('username', 'Username (PPPoE login)')}
        {input('password', 'Password', 'password', 'Leave empty to generate one')}
        {input('phone', 'Phone', 'tel')}
        <div class="form-row">
          <label for="new-profileId">Profile</label>
          <select
            id="new-profileId"
            name="profileId"
            value={values.profileId}
            onChange={set('profileId')}
            aria-invalid={fieldErrors.profileId ? true : undefined}
            aria-describedby={fieldErrors.profileId ? 'error-profileId' : undefined}
          >
            <option value="" disabled>
              {profiles.loading ? 'Loading…' : 'Choose a profile'}
            </option>
            {profiles.data?.profiles.map((p) => (
              <option key={p.id} value={p.id}>
                {p.name}
              </option>
            ))}
          </select>
          {fieldError('profileId')}
        </div>
        {input('name', 'Name (optional)')}
        {input('accountNo', 'Account No (optional)', 'text', 'Generated when empty')}
      </div>
      <div class="actions">
        <button type="submit" class="primary" disabled={busy} data-testid="add-customer-submit">
          {busy ? 'Adding…' : 'Add customer'}
        </button>
        <button type="button" onClick={onCancel} disabled={busy}>
          Cancel
        </button>
      </div>
    </form>
  );
}
