using System.Globalization;

namespace FlowOrleans.Transport.Protocols.Faults;

/// <summary>
/// The faults one end of a <see cref="FaultProtocol"/> connection injects into the byte stream it sends (and, for
/// stalls, the one it receives). Offsets count the framed byte stream as a socket carries it: each frame's 4-byte
/// length prefix, then its payload, from the first byte of the handshake on. All are off by default.
/// </summary>
public sealed class FaultPlan
{
    /// <summary>A plan that injects nothing: the connection behaves like the protocol it wraps.</summary>
    public static FaultPlan None { get; } = new();

    /// <summary>
    /// After this many bytes are sent, the link is cut: the peer sees its input end there (inside a frame, usually),
    /// this end sees its input end too, and nothing more goes either way. Null: never.
    /// </summary>
    public long? CutAfterBytes { get; init; }

    /// <summary>After this many bytes are sent, the link is reset: both ends fail at once, as on a TCP reset. Null: never.</summary>
    public long? ResetAfterBytes { get; init; }

    /// <summary>Sends the stream in pieces of 1 to this many bytes, each its own write underneath. Null: as written.</summary>
    public int? MaxPieceBytes { get; init; }

    /// <summary>Holds each piece this long before sending it. Zero: no delay.</summary>
    public TimeSpan PieceDelay { get; init; }

    /// <summary>The sent byte at this offset is XORed with <see cref="FlipMask"/>. Null: none.</summary>
    public long? FlipAtByte { get; init; }

    /// <summary>The bits <see cref="FlipAtByte"/> flips. Default 0x01.</summary>
    public byte FlipMask { get; init; } = 0x01;

    /// <summary>After this many bytes are received, this end stops reading for <see cref="StallFor"/>. Null: never.</summary>
    public long? StallReadsAfterBytes { get; init; }

    /// <summary>How long a read stall lasts; null: until the connection is closed.</summary>
    public TimeSpan? StallFor { get; init; }

    /// <summary>Seeds the piece sizes, so a plan replays exactly.</summary>
    public int Seed { get; init; }

    /// <summary>Whether the plan changes what the peer receives (cut, reset, flip), as opposed to only when it arrives.</summary>
    public bool IsLossy => CutAfterBytes is not null || ResetAfterBytes is not null || FlipAtByte is not null;

    /// <summary>Throws <see cref="FlowException"/> with <see cref="FlowErrorCode.BadArg"/> naming the first bad setting.</summary>
    public void Validate()
    {
        Check(CutAfterBytes is null or >= 0, nameof(CutAfterBytes), "is negative");
        Check(ResetAfterBytes is null or >= 0, nameof(ResetAfterBytes), "is negative");
        Check(MaxPieceBytes is null or >= 1, nameof(MaxPieceBytes), "is not positive");
        Check(PieceDelay >= TimeSpan.Zero, nameof(PieceDelay), "is negative");
        Check(FlipAtByte is null or >= 0, nameof(FlipAtByte), "is negative");
        Check(FlipAtByte is null || FlipMask != 0, nameof(FlipMask), "is zero, so nothing would flip");
        Check(StallReadsAfterBytes is null or >= 0, nameof(StallReadsAfterBytes), "is negative");
        Check(StallFor is null || StallFor >= TimeSpan.Zero, nameof(StallFor), "is negative");
    }

    /// <inheritdoc />
    public override string ToString()
    {
        var parts = new List<string>();
        Add(CutAfterBytes, "cut after {0} B");
        Add(ResetAfterBytes, "reset after {0} B");
        Add(MaxPieceBytes, "pieces of 1-{0} B");
        if (PieceDelay > TimeSpan.Zero)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"{PieceDelay.TotalMilliseconds} ms a piece"));
        }

        if (FlipAtByte is { } flip)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"flip 0x{FlipMask:x2} at byte {flip}"));
        }

        if (StallReadsAfterBytes is { } stall)
        {
            parts.Add(StallFor is { } d
                ? string.Create(CultureInfo.InvariantCulture, $"stall reads after {stall} B for {d.TotalMilliseconds} ms")
                : string.Create(CultureInfo.InvariantCulture, $"stall reads after {stall} B for good"));
        }

        return parts.Count == 0 ? "no faults" : string.Join(", ", parts);

        void Add(long? value, string format)
        {
            if (value is { } v)
            {
                parts.Add(string.Format(CultureInfo.InvariantCulture, format, v));
            }
        }
    }

    private static void Check(bool condition, string setting, string problem)
    {
        if (!condition)
        {
            throw new FlowException(FlowErrorCode.BadArg, $"Invalid {nameof(FaultPlan)}.{setting}: it {problem}.");
        }
    }
}
