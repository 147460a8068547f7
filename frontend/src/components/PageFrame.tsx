import Alert from '@mui/material/Alert';
import Button from '@mui/material/Button';
import LinearProgress from '@mui/material/LinearProgress';
import { useEffect } from 'react';
import { Navigate } from 'react-router';

import { ApiError, errorMessage } from '../api/errors';
import { useMe } from '../api/queries';
import { authStore } from '../auth/authStore';
import { CLIENT_HOME, type PageDef } from '../pages';

/** One page of the router: its title, who may see it, and its lazily loaded component. */
export function PageFrame({ page }: { page: PageDef }) {
  const me = useMe();
  useEffect(() => {
    document.title = `${page.title} · Inference gateway`;
  }, [page.title]);

  if (me.isPending) return <LinearProgress sx={{ mt: 2 }} aria-label="Checking the key" />;
  if (me.isError) {
    const unauthorized = me.error instanceof ApiError && me.error.status === 401;
    return (
      <Alert
        severity={unauthorized ? 'info' : 'error'}
        sx={{ mt: 2 }}
        action={
          unauthorized ? (
            <Button color="inherit" size="small" onClick={() => authStore.requestKey(errorMessage(me.error))}>
              Sign in
            </Button>
          ) : undefined
        }
      >
        {unauthorized ? 'Sign in with an API key to use the dashboard.' : errorMessage(me.error)}
      </Alert>
    );
  }
  if (page.access === 'admin' && me.data.role !== 'admin') {
    if (page.path === '/') return <Navigate to={CLIENT_HOME} replace />;
    return (
      <Alert severity="info" sx={{ mt: 2 }}>
        {page.title} is for admins: this key ({me.data.name}) is a client key.
      </Alert>
    );
  }
  const { Component } = page;
  return <Component />;
}
