// PPPoE Customers: a searchable, paged list, and the Add Customer form.
import { useEffect, useState } from 'preact/hooks';
import { formatDate, orDash } from '../format';
import { canOperate, navigate, useDebounced, useQuery, useSession } from '../hooks';
import { CUSTOMERS } from '../queries';
import type { Connection, CreatedCustomer, CustomerListItem } from '../types';
import { AddCustomerForm } from './AddCustomerForm';
import { SearchField } from './SearchField';

const PAGE_SIZE = 25;

interface Paging {
  search: string;
  after: string | null;
  previous: (string | null)[];
}

export function CustomersPage({ onCreated }: { onCreated: (c: CreatedCustomer) => void }) {
  const { viewer } = useSession();
  const [searchText, setSearchText] = useState('');
  const search = useDebounced(searchText.trim(), 250);
  // The cursor of this page (null: the first) and those of the pages before it, for a search.
  const [paging, setPaging] = useState<Paging>({ search: '', after: null, previous: [] });
  const [adding, setAdding] = useState(false);
  // A new search starts again from its first page, and so does going back to an earlier one
  // (clearing the box): the pages a search was on are forgotten when it changes.
  const { after, previous } =
    paging.search === search ? paging : { after: null, previous: [] as (string | null)[] };
  useEffect(() => {
    setPaging((p) => (p.search === search ? p : { search, after: null, previous: [] }));
  }, [search]);

  const { data, error, loading } = useQuery<{ customers: Connection<CustomerListItem> }>(
    CUSTOMERS,
    { search: search || null, after },
  );
  const page = data?.customers;
  const offset = previous.length * PAGE_SIZE;
  const mayAdd = canOperate(viewer.role);

  const next = () => {
    if (!page?.pageInfo.endCursor) return;
    setPaging({ search, after: page.pageInfo.endCursor, previous: [...previous, after] });
  };
  const prev = () => {
    if (previous.length === 0) return;
    setPaging({ search, after: previous[previous.length - 1], previous: previous.slice(0, -1) });
  };

  return (
    <section aria-labelledby="customers-title">
      <div class="page-head">
        <h1 id="customers-title">PPPoE Customers</h1>
        <button
          type="button"
          class="primary"
          onClick={() => setAdding(true)}
          disabled={!mayAdd || adding}
          title={mayAdd ? undefined : 'Adding customers needs an OPERATOR key.'}
          data-testid="add-customer-open"
        >
          Add Customer
        </button>
      </div>

      {adding && <AddCustomerForm onCancel={() => setAdding(false)} onCreated={onCreated} />}

      <div class="toolbar">
        <SearchField
          placeholder="Account no, username or phone"
          value={searchText}
          onInput={setSearchText}
          testId="customers-search"
        />
        <span class="muted" aria-live="polite">
          {loading
            ? 'Loading…'
            : page &&
              (page.totalCount === 0
                ? 'No customers'
                : `${offset + 1}–${offset + page.edges.length} of ${page.totalCount}`)}
        </span>
      </div>
      {error && <p class="alert alert-error">{error.message}</p>}

      <div class="table-wrap">
        <table data-testid="customers-table" class="clickable">
          <thead>
            <tr>
              <th scope="col" class="num">
                #
              </th>
              <th scope="col">Account No</th>
              <th scope="col">Username</th>
              <th scope="col">Phone</th>
              <th scope="col">Profile</th>
              <th scope="col">Joined</th>
            </tr>
          </thead>
          <tbody>
            {page?.edges.map(({ node: c }, i) => (
              <tr
                key={c.id}
                data-testid="customer-row"
                data-username={c.username}
                tabIndex={0}
                onClick={() => navigate(`/customers/${encodeURIComponent(c.id)}`)}
                onKeyDown={(e) => {
                  if (e.key === 'Enter') navigate(`/customers/${encodeURIComponent(c.id)}`);
                }}
              >
                <td data-col="index" class="num">
                  {offset + i + 1}
                </td>
                <td data-col="accountNo">{c.accountNo}</td>
                <td data-col="username">
                  <a href={`#/customers/${encodeURIComponent(c.id)}`}>{c.username}</a>
                </td>
                <td data-col="phone">{orDash(c.phone)}</td>
                <td data-col="profile">{orDash(c.profile?.name)}</td>
                <td data-col="joined">{formatDate(c.joinedAt)}</td>
              </tr>
            ))}
            {page && page.edges.length === 0 && (
              <tr>
                <td colSpan={6} class="empty">
                  {search ? 'No customer matches.' : 'No customers yet.'}
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </div>

      <div class="pager">
        <button
          type="button"
          onClick={prev}
          disabled={previous.length === 0 || loading}
          data-testid="customers-prev"
        >
          Previous
        </button>
        <button
          type="button"
          onClick={next}
          disabled={!page?.pageInfo.hasNextPage || loading}
          data-testid="customers-next"
        >
          Next
        </button>
      </div>
    </section>
  );
}
