import ToggleButton from '@mui/material/ToggleButton';
import ToggleButtonGroup from '@mui/material/ToggleButtonGroup';

import { RANGES, type UsageRange } from './usageApi';

/** Last 24 hours (by hour), 7 or 30 days (by UTC day). */
export function RangePicker({
  value,
  onChange,
}: {
  value: UsageRange;
  onChange: (range: UsageRange) => void;
}) {
  return (
    <ToggleButtonGroup
      size="small"
      exclusive
      value={value}
      onChange={(_, next: UsageRange | null) => next && onChange(next)}
      aria-label="Time range"
      data-testid="usage-range"
      // On the page's background the unselected labels' grey is below 4.5:1; on paper it passes.
      sx={{ bgcolor: 'background.paper' }}
    >
      {RANGES.map((range) => (
        <ToggleButton key={range.value} value={range.value}>
          {range.label}
        </ToggleButton>
      ))}
    </ToggleButtonGroup>
  );
}
