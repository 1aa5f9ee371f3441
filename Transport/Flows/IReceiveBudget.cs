namespace FlowOrleans.Transport.Flows;

/// <summary>
/// The bytes a connection promised to buffer for its peer: a receive window may grow only by what it can reserve
/// here, and gives back what it no longer needs.
/// </summary>
internal interface IReceiveBudget
{
    /// <summary>Reserves <paramref name="bytes"/> more; false, reserving nothing, when that would exceed the budget.</summary>
    bool TryReserve(long bytes);

    /// <summary>Gives back <paramref name="bytes"/> reserved earlier.</summary>
    void Unreserve(long bytes);
}
