// Every GraphQL document the console sends, checked against schema.gql. Lists use literal
// `first:` values: the server's complexity limit counts a variable as its largest value.

export const VIEWER = /* GraphQL */ `
  query Viewer {
    viewer {
      name
      role
    }
  }
`;

const ONLINE_SESSION_FIELDS = /* GraphQL */ `
  fragment OnlineSessionFields on Session {
    id
    username
    ipAddress
    macAddress
    startedAt
    lastSeenAt
    uploadBytes
    downloadBytes
    nasIpAddress
    nas {
      id
      name
      shortname
    }
    customer {
      username
    }
  }
`;

export const ONLINE_SESSIONS = /* GraphQL */ `
  query OnlineSessions($search: String, $nasId: ID) {
    onlineSessions(search: $search, nasId: $nasId, first: 100) {
      totalCount
      pageInfo {
        hasNextPage
      }
      edges {
        node {
          ...OnlineSessionFields
        }
      }
    }
  }
  ${ONLINE_SESSION_FIELDS}
`;

export const SESSION_EVENT_BATCHES = /* GraphQL */ `
  subscription SessionEventBatches($nasId: ID) {
    sessionEventBatches(nasId: $nasId, maxLatencyMs: 100, announceLive: true) {
      type
      session {
        ...OnlineSessionFields
      }
    }
  }
  ${ONLINE_SESSION_FIELDS}
`;

/** Any change to one customer's sessions: the detail page refetches on it. */
export const CUSTOMER_SESSION_EVENTS = /* GraphQL */ `
  subscription CustomerSessionEvents($username: String!) {
    sessionEventBatches(username: $username, maxLatencyMs: 500, announceLive: true) {
      type
      session {
        id
      }
    }
  }
`;

export const ONLINE_HEADER = /* GraphQL */ `
  query OnlineHeader {
    onlineSummary {
      total
      byNas {
        nasIpAddress
        count
        nas {
          id
          name
          shortname
        }
      }
    }
    topSessions(first: 5) {
      id
      username
      uploadBytes
      downloadBytes
    }
  }
`;

export const NAS_DEVICES = /* GraphQL */ `
  query NasDevices {
    nasDevices {
      id
      name
      shortname
    }
  }
`;

export const PROFILES = /* GraphQL */ `
  query Profiles {
    profiles {
      id
      name
    }
  }
`;

export const CUSTOMERS = /* GraphQL */ `
  query Customers($search: String, $after: String) {
    customers(search: $search, first: 25, after: $after) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      edges {
        node {
          id
          accountNo
          username
          phone
          profile {
            name
          }
          joinedAt
        }
      }
    }
  }
`;

export const CREATE_CUSTOMER = /* GraphQL */ `
  mutation CreateCustomer($input: CreateCustomerInput!) {
    createCustomer(input: $input) {
      id
      username
      generatedPassword
    }
  }
`;

const HISTORY_PAGE = /* GraphQL */ `
  fragment HistoryPage on SessionConnection {
    totalCount
    pageInfo {
      hasNextPage
      endCursor
    }
    edges {
      node {
        id
        startedAt
        stoppedAt
        durationSeconds
        uploadBytes
        downloadBytes
        terminateCause
      }
    }
  }
`;

export const CUSTOMER_DETAIL = /* GraphQL */ `
  query CustomerDetail($id: ID!) {
    customer(id: $id) {
      id
      accountNo
      username
      phone
      name
      joinedAt
      expiresAt
      status
      suspended
      balance
      profile {
        id
        name
      }
      usage {
        totalBytes
        limitBytes
        capAction
        capActedAt
      }
      currentSession {
        id
        ipAddress
        macAddress
        startedAt
        uploadBytes
        downloadBytes
        nasIpAddress
        nas {
          id
          name
          shortname
        }
      }
      sessions(first: 20) {
        ...HistoryPage
      }
    }
    profiles {
      id
      name
    }
  }
  ${HISTORY_PAGE}
`;

/** Older connection history: the page after a cursor of Customer.sessions. */
export const CUSTOMER_SESSIONS = /* GraphQL */ `
  query CustomerSessions($id: ID!, $after: String) {
    customer(id: $id) {
      id
      sessions(first: 50, after: $after) {
        ...HistoryPage
      }
    }
  }
  ${HISTORY_PAGE}
`;

export const CHANGE_PROFILE = /* GraphQL */ `
  mutation ChangeCustomerProfile($id: ID!, $profileId: ID!) {
    changeCustomerProfile(id: $id, profileId: $profileId) {
      id
      profile {
        id
        name
      }
    }
  }
`;

export const RENEW = /* GraphQL */ `
  mutation RenewCustomer($id: ID!, $force: Boolean, $idempotencyKey: String) {
    renewCustomer(id: $id, force: $force, idempotencyKey: $idempotencyKey) {
      id
      expiresAt
      balance
    }
  }
`;

export const SUSPEND = /* GraphQL */ `
  mutation SuspendCustomer($id: ID!) {
    suspendCustomer(id: $id) {
      id
      suspended
    }
  }
`;

export const RESUME = /* GraphQL */ `
  mutation ResumeCustomer($id: ID!) {
    resumeCustomer(id: $id) {
      id
      suspended
    }
  }
`;

export const DISCONNECT = /* GraphQL */ `
  mutation DisconnectCustomer($id: ID!) {
    disconnectCustomer(id: $id) {
      ok
      method
      message
    }
  }
`;
