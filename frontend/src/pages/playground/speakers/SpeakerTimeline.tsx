import Box from '@mui/material/Box';
import Typography from '@mui/material/Typography';
import { memo, useState, type KeyboardEvent, type MouseEvent } from 'react';

import { formatDuration } from '../../../components/format';
import { SPEAKER_COLOR, speakerColorVars } from './speakerColors';
import { useWidth } from './useWidth';
import { axisTicks, formatClock, type SpeakerLane, type Turn } from './whoSaidWhat';

/** Width of the speaker column; the time axis takes the rest. */
const LABEL_WIDTH = { xs: '136px', sm: '184px' };
/** Room for one tick label (`m:ss`) on the axis. */
const TICK_SPACING_PX = 56;
const LANE_HEIGHT = 36;

/** Seconds at the point clicked on a track or on the axis. */
function timeAt(event: MouseEvent<HTMLElement>, duration: number): number {
  const box = event.currentTarget.getBoundingClientRect();
  if (box.width <= 0) return 0;
  const fraction = Math.min(1, Math.max(0, (event.clientX - box.left) / box.width));
  return fraction * duration;
}

/** Talk time: tenths of a second below a minute (never "0 ms" for a silent speaker). */
const formatTalk = (seconds: number) => (seconds < 10 ? `${seconds.toFixed(1)} s` : formatDuration(seconds));

const percent = (seconds: number, duration: number) =>
  `${duration > 0 ? Math.min(100, Math.max(0, (seconds / duration) * 100)) : 0}%`;

function Segment({
  turn,
  duration,
  active,
  tabbable,
  onFocus,
  onSeek,
}: {
  turn: Turn;
  duration: number;
  active: boolean;
  /** The lane's one segment in the Tab order (arrow keys move between the others). */
  tabbable: boolean;
  onFocus: () => void;
  onSeek: (seconds: number) => void;
}) {
  const label = `${turn.speaker}, ${formatClock(turn.start)} to ${formatClock(turn.end)}`;
  const text = turn.text.length > 80 ? `${turn.text.slice(0, 80)}…` : turn.text;
  return (
    <Box
      component="button"
      type="button"
      data-testid="speaker-segment"
      aria-label={`${label}: play from here`}
      aria-current={active ? 'true' : undefined}
      title={text ? `${label}: ${text}` : label}
      tabIndex={tabbable ? 0 : -1}
      onFocus={onFocus}
      onClick={(event: MouseEvent) => {
        event.stopPropagation();
        onSeek(turn.start);
      }}
      sx={{
        position: 'absolute',
        top: 4,
        bottom: 4,
        left: percent(turn.start, duration),
        width: percent(turn.end - turn.start, duration),
        minWidth: 3,
        p: 0,
        border: 0,
        borderRadius: 0.5,
        bgcolor: SPEAKER_COLOR,
        opacity: active ? 1 : 0.8,
        cursor: 'pointer',
        boxShadow: (theme) =>
          active ? `0 0 0 2px ${theme.vars?.palette.text.primary ?? 'currentColor'}` : 'none',
        '&:hover': { opacity: 1 },
        '&:focus-visible': {
          outline: 2,
          outlineStyle: 'solid',
          outlineColor: 'text.primary',
          outlineOffset: 2,
        },
      }}
    />
  );
}

const Lane = memo(function Lane({
  lane,
  duration,
  totalTalkS,
  activeIndex,
  onSeek,
}: {
  lane: SpeakerLane;
  duration: number;
  totalTalkS: number;
  activeIndex: number | null;
  onSeek: (seconds: number) => void;
}) {
  const share = totalTalkS > 0 ? Math.round((lane.talkS / totalTalkS) * 100) : 0;
  const [focused, setFocused] = useState(0);
  const tabbable = Math.min(focused, lane.turns.length - 1);

  // Left/Right (Home/End) move between the lane's segments; Enter or Space plays the one focused.
  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    const buttons = event.currentTarget.querySelectorAll<HTMLButtonElement>(
      '[data-testid="speaker-segment"]',
    );
    const current = Array.from(buttons).findIndex((button) => button === document.activeElement);
    if (current < 0) return;
    const last = buttons.length - 1;
    const next =
      event.key === 'ArrowRight'
        ? Math.min(last, current + 1)
        : event.key === 'ArrowLeft'
          ? Math.max(0, current - 1)
          : event.key === 'Home'
            ? 0
            : event.key === 'End'
              ? last
              : null;
    if (next === null) return;
    event.preventDefault();
    buttons[next]?.focus();
  };

  return (
    <Box
      data-testid="speaker-lane"
      data-speaker={lane.speaker}
      role="group"
      aria-label={`${lane.speaker}: talks ${formatTalk(lane.talkS)}, ${lane.turns.length} segment${lane.turns.length === 1 ? '' : 's'}`}
      sx={[
        speakerColorVars(lane.order),
        { display: 'grid', gridTemplateColumns: 'var(--label-width) minmax(0, 1fr)', alignItems: 'center' },
      ]}
    >
      <Box sx={{ display: 'flex', alignItems: 'center', gap: 1, minWidth: 0, pr: 1 }}>
        <Box
          aria-hidden
          sx={{ width: 12, height: 12, borderRadius: '3px', bgcolor: SPEAKER_COLOR, flexShrink: 0 }}
        />
        <Box sx={{ minWidth: 0 }}>
          <Typography variant="body2" noWrap title={lane.speaker} sx={{ fontWeight: 600 }}>
            {lane.speaker}
          </Typography>
          <Typography variant="caption" color="text.secondary" noWrap component="div">
            {formatTalk(lane.talkS)} · {share} %
          </Typography>
        </Box>
      </Box>
      <Box
        onClick={(event) => onSeek(timeAt(event, duration))}
        onKeyDown={onKeyDown}
        sx={{
          position: 'relative',
          height: LANE_HEIGHT,
          bgcolor: 'action.hover',
          borderRadius: 0.5,
          cursor: 'pointer',
        }}
      >
        {lane.turns.length === 0 && (
          <Typography
            variant="caption"
            color="text.secondary"
            sx={{ position: 'absolute', inset: 0, display: 'flex', alignItems: 'center', px: 1 }}
          >
            no words given to this speaker
          </Typography>
        )}
        {lane.turns.map((turn, position) => (
          <Segment
            key={turn.index}
            turn={turn}
            duration={duration}
            active={turn.index === activeIndex}
            tabbable={position === tabbable}
            onFocus={() => setFocused(position)}
            onSeek={onSeek}
          />
        ))}
      </Box>
    </Box>
  );
});

function Axis({
  duration,
  ticks,
  measure,
  onSeek,
}: {
  duration: number;
  ticks: number[];
  measure: (node: HTMLDivElement | null) => void;
  onSeek: (seconds: number) => void;
}) {
  return (
    <Box sx={{ display: 'grid', gridTemplateColumns: 'var(--label-width) minmax(0, 1fr)' }}>
      <span />
      <Box
        ref={measure}
        onClick={(event) => onSeek(timeAt(event, duration))}
        aria-hidden
        sx={{ position: 'relative', height: 22, cursor: 'pointer', borderBottom: 1, borderColor: 'divider' }}
      >
        {ticks.map((t, i) => (
          <Typography
            key={t}
            variant="caption"
            color="text.secondary"
            sx={{
              position: 'absolute',
              bottom: 2,
              left: percent(t, duration),
              // The first label starts at its tick, the last ends at it: none spills out of the axis.
              transform: i === 0 ? 'none' : t >= duration - 1e-9 ? 'translateX(-100%)' : 'translateX(-50%)',
              fontVariantNumeric: 'tabular-nums',
              whiteSpace: 'nowrap',
              lineHeight: 1,
            }}
          >
            {formatClock(t)}
          </Typography>
        ))}
      </Box>
    </Box>
  );
}

/**
 * One lane per speaker on a time axis: their segments as blocks (click or Enter to play from there), talk
 * time beside each lane, and a playhead that follows the audio player.
 */
export function SpeakerTimeline({
  lanes,
  duration,
  time,
  activeIndex,
  onSeek,
}: {
  lanes: SpeakerLane[];
  duration: number;
  time: number;
  activeIndex: number | null;
  onSeek: (seconds: number) => void;
}) {
  const totalTalkS = lanes.reduce((sum, lane) => sum + lane.talkS, 0);
  const [measureAxis, axisWidth] = useWidth<HTMLDivElement>();
  // As many ticks as fit (8 before the axis is measured).
  const ticks = axisTicks(duration, axisWidth > 0 ? Math.max(1, Math.floor(axisWidth / TICK_SPACING_PX)) : 8);
  return (
    <Box
      data-testid="speaker-timeline"
      role="group"
      aria-label="Speaker timeline"
      sx={{ '--label-width': LABEL_WIDTH }}
    >
      {lanes.length === 0 ? (
        <Typography color="text.secondary" sx={{ py: 2 }}>
          No speaker found: pyannote heard no speech it could attribute in this audio. Try a recording with
          clear speech, or give the number of speakers.
        </Typography>
      ) : (
        <>
          <Axis duration={duration} ticks={ticks} measure={measureAxis} onSeek={onSeek} />
          <Box sx={{ position: 'relative', display: 'flex', flexDirection: 'column', gap: 0.75, pt: 0.75 }}>
            {lanes.map((lane) => (
              <Lane
                key={lane.speaker}
                lane={lane}
                duration={duration}
                totalTalkS={totalTalkS}
                activeIndex={activeIndex}
                onSeek={onSeek}
              />
            ))}
            <Box
              aria-hidden
              sx={{
                position: 'absolute',
                top: 0,
                bottom: 0,
                left: 'var(--label-width)',
                right: 0,
                pointerEvents: 'none',
              }}
            >
              {ticks.map((t) => (
                <Box
                  key={t}
                  sx={{
                    position: 'absolute',
                    top: 0,
                    bottom: 0,
                    left: percent(t, duration),
                    borderLeft: 1,
                    borderColor: 'divider',
                  }}
                />
              ))}
              <Box
                data-testid="speaker-playhead"
                sx={{
                  position: 'absolute',
                  top: -4,
                  bottom: 0,
                  left: percent(time, duration),
                  width: 2,
                  ml: '-1px',
                  bgcolor: 'text.primary',
                  boxShadow: (theme) => `0 0 0 1px ${theme.vars?.palette.background.paper ?? 'transparent'}`,
                }}
              />
            </Box>
          </Box>
          <Typography variant="caption" color="text.secondary" component="p" sx={{ mt: 1 }}>
            {lanes.length} speaker{lanes.length === 1 ? '' : 's'} · {formatTalk(totalTalkS)} of speech in{' '}
            {formatDuration(duration)} · at {formatClock(time)}. Click a lane to play from there; in a lane,
            the arrow keys move between segments and Enter plays one.
          </Typography>
        </>
      )}
    </Box>
  );
}
