import BarChartIcon from '@mui/icons-material/BarChart';
import ChatIcon from '@mui/icons-material/ChatOutlined';
import CodeIcon from '@mui/icons-material/Code';
import DataUsageIcon from '@mui/icons-material/DataUsage';
import GraphicEqIcon from '@mui/icons-material/GraphicEq';
import ListAltIcon from '@mui/icons-material/ListAlt';
import MemoryIcon from '@mui/icons-material/Memory';
import RecordVoiceOverIcon from '@mui/icons-material/RecordVoiceOverOutlined';
import SpaceDashboardIcon from '@mui/icons-material/SpaceDashboardOutlined';
import TranslateIcon from '@mui/icons-material/Translate';
import VolumeUpIcon from '@mui/icons-material/VolumeUpOutlined';
import WorkHistoryIcon from '@mui/icons-material/WorkHistoryOutlined';
import Box from '@mui/material/Box';
import Drawer from '@mui/material/Drawer';
import List from '@mui/material/List';
import ListItem from '@mui/material/ListItem';
import ListItemButton from '@mui/material/ListItemButton';
import ListItemIcon from '@mui/material/ListItemIcon';
import ListItemText from '@mui/material/ListItemText';
import ListSubheader from '@mui/material/ListSubheader';
import Toolbar from '@mui/material/Toolbar';
import Typography from '@mui/material/Typography';
import type { SvgIconComponent } from '@mui/icons-material';
import { NavLink, useLocation } from 'react-router';

import { NAV_SECTIONS, PAGES, type NavIcon } from '../pages';
import type { Role } from '../api/types';

export const DRAWER_WIDTH = 232;

const ICONS: Record<NavIcon, SvgIconComponent> = {
  overview: SpaceDashboardIcon,
  models: MemoryIcon,
  logs: ListAltIcon,
  chat: ChatIcon,
  transcribe: GraphicEqIcon,
  speakers: RecordVoiceOverIcon,
  translate: TranslateIcon,
  speech: VolumeUpIcon,
  jobs: WorkHistoryIcon,
  code: CodeIcon,
  usage: BarChartIcon,
  'my-usage': DataUsageIcon,
};

interface NavDrawerProps {
  role: Role | null;
  /** Phone layout: a temporary drawer opened from the menu button. */
  mobile: boolean;
  open: boolean;
  onClose: () => void;
}

function NavItems({ role, onNavigate }: { role: Role | null; onNavigate: () => void }) {
  const location = useLocation();
  const visible = PAGES.filter((page) => page.nav && (page.access === 'any' || role === 'admin'));
  return (
    <Box component="nav" aria-label="Pages">
      {NAV_SECTIONS.map((section) => {
        const pages = visible.filter((page) => page.nav?.section === section.id);
        if (!pages.length) return null;
        return (
          <List
            key={section.id}
            dense
            subheader={
              <ListSubheader sx={{ bgcolor: 'transparent', lineHeight: '32px' }}>
                {section.label}
              </ListSubheader>
            }
          >
            {pages.map((page) => {
              const nav = page.nav!;
              const Icon = ICONS[nav.icon];
              const selected =
                page.path === '/' ? location.pathname === '/' : location.pathname.startsWith(page.path);
              return (
                // A <li> around each link: a list holds only list items (axe's `list` rule).
                <ListItem key={page.path} disablePadding>
                  <ListItemButton
                    component={NavLink}
                    to={page.path}
                    end={page.path === '/'}
                    selected={selected}
                    onClick={onNavigate}
                    sx={{ mx: 1, borderRadius: 1 }}
                  >
                    <ListItemIcon sx={{ minWidth: 36 }}>
                      <Icon fontSize="small" />
                    </ListItemIcon>
                    <ListItemText primary={nav.label} />
                  </ListItemButton>
                </ListItem>
              );
            })}
          </List>
        );
      })}
    </Box>
  );
}

export function NavDrawer({ role, mobile, open, onClose }: NavDrawerProps) {
  if (mobile) {
    return (
      <Drawer
        variant="temporary"
        open={open}
        onClose={onClose}
        slotProps={{ paper: { sx: { width: DRAWER_WIDTH } } }}
        ModalProps={{ keepMounted: true }}
      >
        <Toolbar>
          <Typography variant="subtitle1" component="p" noWrap sx={{ fontWeight: 600 }}>
            Inference gateway
          </Typography>
        </Toolbar>
        <NavItems role={role} onNavigate={onClose} />
      </Drawer>
    );
  }
  return (
    <Drawer
      variant="permanent"
      sx={{
        width: DRAWER_WIDTH,
        flexShrink: 0,
        '& .MuiDrawer-paper': { width: DRAWER_WIDTH, boxSizing: 'border-box' },
      }}
    >
      <Toolbar />
      <NavItems role={role} onNavigate={() => undefined} />
    </Drawer>
  );
}
