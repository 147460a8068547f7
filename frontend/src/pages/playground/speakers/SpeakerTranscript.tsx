import Box from '@mui/material/Box';
import ButtonBase from '@mui/material/ButtonBase';
import Typography from '@mui/material/Typography';
import { memo, useEffect, useRef } from 'react';

import { SPEAKER_COLOR, speakerColorVars } from './speakerColors';
import { formatClock, type TranscriptSegment } from './whoSaidWhat';

/** The transcript, one line per speaker segment: the line being played is highlighted, a click plays it. */
export const SpeakerTranscript = memo(function SpeakerTranscript({
  segments,
  text,
  speakerOrder,
  activeIndex,
  onSeek,
}: {
  segments: TranscriptSegment[];
  /** The whole text, shown when there are no segments. */
  text: string;
  /** Speaker label → its position (colour), as in the timeline. */
  speakerOrder: Map<string, number>;
  activeIndex: number | null;
  onSeek: (seconds: number) => void;
}) {
  const list = useRef<HTMLOListElement>(null);

  useEffect(() => {
    // Keep the line being played in view, scrolling the transcript box only (never the page).
    const box = list.current;
    if (!box || activeIndex === null) return;
    const line = box.children[activeIndex];
    if (!(line instanceof HTMLElement)) return;
    const top = line.offsetTop - box.offsetTop;
    if (top < box.scrollTop || top + line.offsetHeight > box.scrollTop + box.clientHeight) {
      box.scrollTop = Math.max(0, top - box.clientHeight / 3);
    }
  }, [activeIndex]);

  return (
    <Box data-testid="speaker-transcript" sx={{ minWidth: 0 }}>
      {segments.length === 0 ? (
        <Typography color="text.secondary" sx={{ overflowWrap: 'anywhere' }}>
          {text.trim() ? text : 'No words were transcribed.'}
        </Typography>
      ) : (
        <Box
          component="ol"
          ref={list}
          aria-label="Transcript"
          sx={{
            listStyle: 'none',
            m: 0,
            p: 0,
            maxHeight: { xs: 360, md: 480 },
            overflowY: 'auto',
            position: 'relative',
          }}
        >
          {segments.map((segment, index) => {
            const active = index === activeIndex;
            const speaker = segment.speaker ?? 'unknown speaker';
            return (
              <Box component="li" key={index} sx={speakerColorVars(speakerOrder.get(speaker) ?? 0)}>
                <ButtonBase
                  onClick={() => onSeek(segment.start)}
                  aria-current={active ? 'true' : undefined}
                  aria-label={`${formatClock(segment.start)} ${speaker}: ${segment.text || '(no words)'}`}
                  sx={{
                    width: '100%',
                    display: 'grid',
                    gridTemplateColumns: 'auto minmax(0, 1fr)',
                    columnGap: 1.5,
                    alignItems: 'start',
                    textAlign: 'left',
                    px: 1,
                    py: 0.75,
                    borderRadius: 1,
                    borderLeft: 4,
                    borderLeftColor: active ? SPEAKER_COLOR : 'transparent',
                    bgcolor: active ? 'action.selected' : 'transparent',
                    '&:hover': { bgcolor: active ? 'action.selected' : 'action.hover' },
                    '&.Mui-focusVisible': { outline: 2, outlineStyle: 'solid', outlineColor: 'primary.main' },
                  }}
                >
                  <Typography
                    variant="caption"
                    color="text.secondary"
                    sx={{ fontVariantNumeric: 'tabular-nums', pt: '2px' }}
                  >
                    {formatClock(segment.start)}
                  </Typography>
                  <Box sx={{ minWidth: 0 }}>
                    <Box sx={{ display: 'flex', alignItems: 'center', gap: 0.75 }}>
                      <Box
                        aria-hidden
                        sx={{
                          width: 10,
                          height: 10,
                          borderRadius: '3px',
                          bgcolor: SPEAKER_COLOR,
                          flexShrink: 0,
                        }}
                      />
                      <Typography variant="caption" sx={{ fontWeight: 600 }}>
                        {speaker}
                      </Typography>
                    </Box>
                    <Typography variant="body2" sx={{ overflowWrap: 'anywhere' }}>
                      {segment.text || '…'}
                    </Typography>
                  </Box>
                </ButtonBase>
              </Box>
            );
          })}
        </Box>
      )}
    </Box>
  );
});
