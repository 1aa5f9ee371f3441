namespace FlowOrleans.Transport.Flows;

/// <summary>What a flow's next chunk is, as <see cref="FlowSendState.PlanChunk"/> decides it.</summary>
internal enum ChunkPlan
{
    /// <summary>Nothing to send now: no credit, no data, or the flow is finished.</summary>
    Nothing,

    /// <summary>A whole message that does not fit the room left in this record; it waits for the next one.</summary>
    Deferred,

    /// <summary>A chunk (possibly empty, carrying only the open or the Close flag) goes into this record.</summary>
    Send,
}
