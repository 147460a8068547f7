import KeyIcon from '@mui/icons-material/Key';
import MenuIcon from '@mui/icons-material/Menu';
import Alert from '@mui/material/Alert';
import AppBar from '@mui/material/AppBar';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Chip from '@mui/material/Chip';
import IconButton from '@mui/material/IconButton';
import LinearProgress from '@mui/material/LinearProgress';
import Toolbar from '@mui/material/Toolbar';
import Tooltip from '@mui/material/Tooltip';
import Typography from '@mui/material/Typography';
import useMediaQuery from '@mui/material/useMediaQuery';
import { useTheme } from '@mui/material/styles';
import { Suspense, useState } from 'react';
import { Link as RouterLink, Outlet } from 'react-router';

import { useMe } from '../api/queries';
import { authStore, useAuthState } from '../auth/authStore';
import { KeyDialog } from '../auth/KeyDialog';
import { DRAWER_WIDTH, NavDrawer } from './NavDrawer';

/** Top bar (identity, key dialog, open-mode warning), navigation drawer, and the current page. */
export function AppShell() {
  const theme = useTheme();
  const phone = useMediaQuery(theme.breakpoints.down('md'));
  const [drawerOpen, setDrawerOpen] = useState(false);
  const [dialogOpen, setDialogOpen] = useState(false);
  const auth = useAuthState();
  const me = useMe();
  const role = me.data?.role ?? null;
  const openMode = me.data?.open_mode ?? false;

  const closeDialog = () => {
    setDialogOpen(false);
    authStore.dismissPrompt();
  };

  return (
    <Box sx={{ display: 'flex', minHeight: '100vh' }}>
      <Box
        component="a"
        href="#main"
        sx={{
          position: 'absolute',
          left: -9999,
          zIndex: (t) => t.zIndex.tooltip,
          '&:focus': { left: 8, top: 8, p: 1, bgcolor: 'background.paper', color: 'text.primary' },
        }}
      >
        Skip to content
      </Box>
      <AppBar
        position="fixed"
        color="default"
        elevation={0}
        sx={{
          zIndex: (t) => (phone ? t.zIndex.appBar : t.zIndex.drawer + 1),
          borderBottom: 1,
          borderColor: 'divider',
        }}
      >
        <Toolbar sx={{ gap: 1 }}>
          {phone && (
            <IconButton edge="start" aria-label="Open navigation" onClick={() => setDrawerOpen(true)}>
              <MenuIcon />
            </IconButton>
          )}
          <Typography
            component={RouterLink}
            to="/"
            variant="h6"
            noWrap
            sx={{ color: 'inherit', textDecoration: 'none', fontWeight: 600, flexShrink: 1, minWidth: 0 }}
          >
            {phone ? 'Gateway' : 'Inference gateway'}
          </Typography>
          <Box sx={{ flexGrow: 1 }} />
          {openMode && (
            <Chip
              color="warning"
              size="small"
              label="Open mode"
              sx={{ display: { xs: 'none', sm: 'inline-flex' } }}
            />
          )}
          {me.data && !openMode && (
            <Tooltip title={`Signed in as ${me.data.name} (${me.data.role})`}>
              <Chip
                size="small"
                variant="outlined"
                label={phone ? me.data.role : `${me.data.name} · ${me.data.role}`}
                data-testid="identity"
              />
            </Tooltip>
          )}
          <Button
            color="inherit"
            startIcon={<KeyIcon />}
            onClick={() => setDialogOpen(true)}
            aria-haspopup="dialog"
            sx={{ flexShrink: 0 }}
          >
            {auth.key ? 'Key' : 'Sign in'}
          </Button>
        </Toolbar>
      </AppBar>
      <NavDrawer role={role} mobile={phone} open={drawerOpen} onClose={() => setDrawerOpen(false)} />
      <Box
        component="main"
        id="main"
        tabIndex={-1}
        sx={{
          flexGrow: 1,
          minWidth: 0,
          width: { md: `calc(100% - ${DRAWER_WIDTH}px)` },
          px: { xs: 1.5, sm: 3 },
          pb: 4,
          outline: 'none',
        }}
      >
        <Toolbar />
        {openMode && (
          <Alert severity="warning" sx={{ mt: 2 }} data-testid="open-mode-warning">
            <strong>Open mode:</strong> this gateway has no API keys configured, so anyone who can reach it is
            an admin. Set <code>ADMIN_API_KEYS</code> and <code>OPENAI_API_KEYS</code> before exposing it.
          </Alert>
        )}
        <Suspense fallback={<LinearProgress sx={{ mt: 2 }} aria-label="Loading the page" />}>
          <Outlet />
        </Suspense>
      </Box>
      <KeyDialog open={dialogOpen || auth.prompt.open} onClose={closeDialog} me={me.data} />
    </Box>
  );
}
