using FlowOrleans.Transport.Flows;

namespace FlowOrleans.Transport.Connections;

/// <summary>What a <see cref="RecordWriter"/> tells the connection it writes for.</summary>
internal interface IRecordWriterHost
{
    /// <summary>Flow data went out on a flow that is not a side channel: the connection is in use.</summary>
    void OnDataSent();

    /// <summary>The flow's Close went out and the peer had closed its side: both directions are done.</summary>
    void OnFlowFinished(Flow flow);

    /// <summary>Writing failed: the connection must close.</summary>
    void OnWriteFailed(Exception error);
}
